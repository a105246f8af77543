import type { BatchCommand, BatchItemResult, Bitrix24Api } from '../bitrix24/types.js';
import { ValidationError } from '../errors.js';
import {
  type ConsentEntityType,
  DEFAULT_CONSENT_FIELD,
  DEFAULT_ENTITIES,
  methodPrefix,
} from './types.js';

export type FieldOutcome = 'created' | 'exists';

export interface EnsureConsentFieldOptions {
  /** CRM types to give the field. Default `['contact', 'lead']`. */
  entities?: readonly ConsentEntityType[];
}

const LABEL = { en: 'SMS marketing consent', ru: 'Согласие на SMS-рассылку' };

/**
 * The add answer when the field is already there. Not documented (the docs list no such
 * error); the portal answers an empty `error` and the text in `error_description`.
 */
const ALREADY_EXISTS = /already exist|уже существует/i;

function listed(result: BatchItemResult | undefined): Record<string, unknown>[] {
  if (!result?.ok) return [];
  const r = result.result;
  if (Array.isArray(r)) return r as Record<string, unknown>[];
  return r && typeof r === 'object' ? (Object.values(r) as Record<string, unknown>[]) : [];
}

function failure(what: string, r: BatchItemResult | undefined): Error {
  const detail =
    r && !r.ok ? `${r.error}${r.description ? `: ${r.description}` : ''}` : 'no answer';
  return new Error(`Bitrix24 ${what} failed (${detail})`);
}

/**
 * Creates the boolean consent field on contacts and leads where it is missing
 * (`crm.<type>.userfield.list` filtered by FIELD_NAME, then `crm.<type>.userfield.add`
 * with FIELD_NAME = the part after `UF_CRM_`). Idempotent: an existing field, or an
 * "already exists" answer from a concurrent add, counts as success. Costs one `batch`
 * request, two when something must be created.
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
  if (!/^UF_CRM_[A-Z0-9_]+$/.test(fieldName)) {
    throw new ValidationError(
      `consent field ${fieldName} is not a CRM user field name: use UF_CRM_ followed by A-Z, 0-9 or _`,
    );
  }
  const entities = opts.entities ?? DEFAULT_ENTITIES;
  const lists: Record<string, BatchCommand> = {};
  for (const e of entities) {
    lists[e] = {
      method: `${methodPrefix(e)}.userfield.list`,
      params: { filter: { FIELD_NAME: fieldName } },
    };
  }
  const found = await api.batch(portalId, lists);
  const out: Partial<Record<ConsentEntityType, FieldOutcome>> = {};
  const adds: Record<string, BatchCommand> = {};
  for (const e of entities) {
    const r = found[e];
    if (!r?.ok) throw failure(`${methodPrefix(e)}.userfield.list`, r);
    const existing = listed(r).find((f) => f.FIELD_NAME === fieldName);
    if (existing) {
      if (existing.USER_TYPE_ID !== 'boolean') {
        throw new ValidationError(
          `the ${e} field ${fieldName} exists with type ${String(existing.USER_TYPE_ID)}, not boolean: ` +
            'rename it in Bitrix24 or set CONSENT_FIELD to another name',
        );
      }
      out[e] = 'exists';
      continue;
    }
    adds[e] = {
      method: `${methodPrefix(e)}.userfield.add`,
      params: {
        fields: {
          FIELD_NAME: fieldName.slice('UF_CRM_'.length),
          USER_TYPE_ID: 'boolean',
          XML_ID: fieldName,
          LABEL: LABEL.en,
          EDIT_FORM_LABEL: LABEL,
          LIST_COLUMN_LABEL: LABEL,
          LIST_FILTER_LABEL: LABEL,
          HELP_MESSAGE: {
            en: 'Marketing SMS go only to numbers whose CRM records have this set to Yes',
            ru: 'Маркетинговые SMS уходят только на номера, у которых здесь стоит «Да»',
          },
          SHOW_FILTER: 'Y',
          SETTINGS: { DEFAULT_VALUE: 0, DISPLAY: 'CHECKBOX' },
        },
      },
    };
  }
  if (Object.keys(adds).length === 0) return out;
  const added = await api.batch(portalId, adds);
  for (const e of Object.keys(adds) as ConsentEntityType[]) {
    const r = added[e];
    if (r?.ok || (r && !r.ok && ALREADY_EXISTS.test(`${r.error} ${r.description ?? ''}`))) {
      out[e] = r?.ok ? 'created' : 'exists';
      continue;
    }
    throw failure(`${methodPrefix(e)}.userfield.add ${fieldName}`, r);
  }
  return out;
}
