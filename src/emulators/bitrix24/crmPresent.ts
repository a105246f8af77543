import { type CrmRecord, MULTI_FIELDS, type MultiFieldValue } from './crmQuery.js';

/*
 * How the two CRM APIs show the same record. The classic `crm.contact.*` family uses
 * upper-case names, strings, boolean user fields as "1"/"0", and multifields only when
 * selected (or on get). `crm.item.*` uses camelCase names, numeric ids and "Y"/"N".
 */

const SPECIAL_TO_CAMEL: Record<string, string> = {
  ID: 'id',
  DATE_CREATE: 'createdTime',
  DATE_MODIFY: 'updatedTime',
  CREATED_BY_ID: 'createdBy',
  MODIFY_BY_ID: 'updatedBy',
};
const SPECIAL_TO_UPPER = Object.fromEntries(
  Object.entries(SPECIAL_TO_CAMEL).map(([k, v]) => [v, k]),
);

/** `UF_CRM_SMS_CONSENT` → `ufCrmSmsConsent`, `ASSIGNED_BY_ID` → `assignedById`. */
export function toCamel(field: string): string {
  const special = SPECIAL_TO_CAMEL[field];
  if (special) return special;
  return field
    .toLowerCase()
    .split('_')
    .map((part, i) => (i === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
}

/** `ufCrmSmsConsent` → `UF_CRM_SMS_CONSENT`; upper-case names pass unchanged. */
export function toUpper(field: string): string {
  const special = SPECIAL_TO_UPPER[field];
  if (special) return special;
  if (field === field.toUpperCase()) return field;
  return field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Rewrites the field part of filter / order keys (`>=updatedTime` → `>=DATE_MODIFY`). */
export function keysToUpper(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const m = /^([<>=!%@]*)(.*)$/.exec(key) as RegExpExecArray;
    out[`${m[1]}${toUpper(m[2] as string)}`] = value;
  }
  return out;
}

function classicValue(value: unknown): unknown {
  if (value === true) return '1';
  if (value === false) return '0';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map((v) => (v && typeof v === 'object' ? { ...v } : v));
  return value;
}

/** Which fields a `select` names: `*` = standard fields, `UF_*` = user fields, else by name. */
function selectedFields(rec: CrmRecord, select: string[] | 'all', userFields: string[]): string[] {
  const keys = Object.keys(rec);
  if (select === 'all') return [...new Set([...keys, ...userFields])];
  const wanted = select.length === 0 ? ['*'] : select;
  const out = new Set<string>(['ID']);
  for (const s of wanted) {
    if (s === '*') {
      for (const k of keys) if (!k.startsWith('UF_') && !MULTI_FIELDS.has(k)) out.add(k);
    } else if (s === 'UF_*') {
      for (const k of [...keys, ...userFields]) if (k.startsWith('UF_')) out.add(k);
    } else {
      out.add(s);
    }
  }
  return [...out];
}

/** A record as `crm.contact.get` (`select = 'all'`) or `crm.contact.list` shows it. */
export function presentClassic(
  rec: CrmRecord,
  select: string[] | 'all',
  userFields: { name: string; type: string }[],
): Record<string, unknown> {
  const ufTypes = new Map(userFields.map((f) => [f.name, f.type]));
  const out: Record<string, unknown> = {};
  for (const field of selectedFields(rec, select, [...ufTypes.keys()])) {
    if (field in rec) out[field] = classicValue(rec[field]);
    // A contact without phones has no PHONE key at all; unset user fields read as empty.
    else if (ufTypes.has(field)) out[field] = ufTypes.get(field) === 'boolean' ? '0' : null;
  }
  return out;
}

function itemValue(field: string, value: unknown): unknown {
  if (value === true) return 'Y';
  if (value === false) return 'N';
  if (
    (field === 'ID' || field.endsWith('_ID')) &&
    typeof value === 'string' &&
    /^\d+$/.test(value)
  ) {
    return Number(value);
  }
  if (field === 'OPPORTUNITY' && typeof value === 'string' && value !== '') return Number(value);
  return value;
}

/** A record as `crm.item.get` / `crm.item.list` show it (multifields are not emulated there). */
export function presentItem(
  rec: CrmRecord,
  select: string[] | undefined,
  userFields: { name: string; type: string }[],
): Record<string, unknown> {
  const ufTypes = new Map(userFields.map((f) => [f.name, f.type]));
  const upperSelect = (select ?? []).map((s) =>
    s === '*' || s === 'uf_*' ? s.toUpperCase() : toUpper(s),
  );
  const fields = selectedFields(rec, upperSelect.length === 0 ? ['*', 'UF_*'] : upperSelect, [
    ...ufTypes.keys(),
  ]);
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (MULTI_FIELDS.has(field)) continue;
    if (field in rec) out[toCamel(field)] = itemValue(field, rec[field]);
    else if (ufTypes.has(field))
      out[toCamel(field)] = ufTypes.get(field) === 'boolean' ? 'N' : null;
  }
  return out;
}

export type { MultiFieldValue };
