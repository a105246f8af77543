import {
  checkUserFieldName,
  ensureBooleanField,
  type FieldOutcome,
} from '../bitrix24/booleanField.js';
import type { Bitrix24Api } from '../bitrix24/types.js';
import { type ConsentEntityType, DEFAULT_CONSENT_FIELD, DEFAULT_ENTITIES } from './types.js';

export type { FieldOutcome };

export interface EnsureConsentFieldOptions {
  /** CRM types to give the field. Default `['contact', 'lead']`. */
  entities?: readonly ConsentEntityType[];
}

/**
 * Creates the boolean consent field on contacts and leads where it is missing
 * (`ensureBooleanField`: one `batch` request, two when something must be created).
 *
 * Throws a ValidationError when a field of that name exists with a type other than boolean:
 * an administrator must rename it or set CONSENT_FIELD.
 */
export async function ensureConsentField(
  api: Bitrix24Api,
  portalId: string,
  fieldName: string = DEFAULT_CONSENT_FIELD,
  opts: EnsureConsentFieldOptions = {},
): Promise<Partial<Record<ConsentEntityType, FieldOutcome>>> {
  checkUserFieldName(fieldName, 'consent field');
  return ensureBooleanField(api, portalId, {
    fieldName,
    entities: opts.entities ?? DEFAULT_ENTITIES,
    label: { en: 'SMS marketing consent', ru: 'Согласие на SMS-рассылку' },
    help: {
      en: 'Marketing SMS go only to numbers whose CRM records have this set to Yes',
      ru: 'Маркетинговые SMS уходят только на номера, у которых здесь стоит «Да»',
    },
    renameHint: 'rename it in Bitrix24 or set CONSENT_FIELD to another name',
  });
}
