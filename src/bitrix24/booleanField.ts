import { ValidationError } from '../errors.js';
import type { BatchCommand, BatchItemResult, Bitrix24Api } from './types.js';

export type FieldOutcome = 'created' | 'exists';

/** Labels in the portal's languages. */
export type Labels = { en: string; ru: string };

/** A boolean CRM user field to make sure of. */
export interface BooleanFieldSpec {
  /** Full name, `UF_CRM_` + A-Z, 0-9, _. */
  fieldName: string;
  /** CRM types, e.g. `['contact', 'lead']` (methods `crm.<type>.userfield.*`). */
  entities: readonly string[];
  label: Labels;
  help: Labels;
  /** What an administrator should do when a same-named field has another type. */
  renameHint: string;
}

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

/** Throws a ValidationError unless `name` is a CRM user field name. */
export function checkUserFieldName(name: string, what: string): void {
  if (!/^UF_CRM_[A-Z0-9_]+$/.test(name)) {
    throw new ValidationError(
      `${what} ${name} is not a CRM user field name: use UF_CRM_ followed by A-Z, 0-9 or _`,
    );
  }
}

/**
 * Creates a boolean user field on each CRM type where it is missing
 * (`crm.<type>.userfield.list` filtered by FIELD_NAME, then `crm.<type>.userfield.add`
 * with FIELD_NAME = the part after `UF_CRM_`). Idempotent: an existing field, or an
 * "already exists" answer from a concurrent add, counts as success. Costs one `batch`
 * request, two when something must be created.
 *
 * Throws a ValidationError when a field of that name exists with a type other than boolean.
 */
export async function ensureBooleanField(
  api: Bitrix24Api,
  portalId: string,
  spec: BooleanFieldSpec,
): Promise<Record<string, FieldOutcome>> {
  const { fieldName } = spec;
  checkUserFieldName(fieldName, 'field');
  const lists: Record<string, BatchCommand> = {};
  for (const e of spec.entities) {
    lists[e] = { method: `crm.${e}.userfield.list`, params: { filter: { FIELD_NAME: fieldName } } };
  }
  const found = await api.batch(portalId, lists);
  const out: Record<string, FieldOutcome> = {};
  const adds: Record<string, BatchCommand> = {};
  for (const e of spec.entities) {
    const r = found[e];
    if (!r?.ok) throw failure(`crm.${e}.userfield.list`, r);
    const existing = listed(r).find((f) => f.FIELD_NAME === fieldName);
    if (existing) {
      if (existing.USER_TYPE_ID !== 'boolean') {
        throw new ValidationError(
          `the ${e} field ${fieldName} exists with type ${String(existing.USER_TYPE_ID)}, not boolean: ${spec.renameHint}`,
        );
      }
      out[e] = 'exists';
      continue;
    }
    adds[e] = {
      method: `crm.${e}.userfield.add`,
      params: {
        fields: {
          FIELD_NAME: fieldName.slice('UF_CRM_'.length),
          USER_TYPE_ID: 'boolean',
          XML_ID: fieldName,
          LABEL: spec.label.en,
          EDIT_FORM_LABEL: spec.label,
          LIST_COLUMN_LABEL: spec.label,
          LIST_FILTER_LABEL: spec.label,
          HELP_MESSAGE: spec.help,
          SHOW_FILTER: 'Y',
          SETTINGS: { DEFAULT_VALUE: 0, DISPLAY: 'CHECKBOX' },
        },
      },
    };
  }
  if (Object.keys(adds).length === 0) return out;
  const added = await api.batch(portalId, adds);
  for (const e of Object.keys(adds)) {
    const r = added[e];
    if (r?.ok || (r && !r.ok && ALREADY_EXISTS.test(`${r.error} ${r.description ?? ''}`))) {
      out[e] = r?.ok ? 'created' : 'exists';
      continue;
    }
    throw failure(`crm.${e}.userfield.add ${fieldName}`, r);
  }
  return out;
}
