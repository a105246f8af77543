/*
 * Filtering and ordering of CRM records the way Bitrix24 list methods read `filter` and
 * `order`: an operator prefix on the key (`>ID`, `>=DATE_MODIFY`, `!STATUS_ID`, `%TITLE`,
 * `=FIELD` or none for equality), an array value meaning "any of".
 */

export type CrmRecord = Record<string, unknown>;

/** Multifields: lists of `{ID, VALUE, VALUE_TYPE, TYPE_ID}`. */
export const MULTI_FIELDS = new Set(['PHONE', 'EMAIL', 'WEB', 'IM']);

export interface MultiFieldValue {
  ID: string;
  VALUE: string;
  VALUE_TYPE: string;
  TYPE_ID: string;
}

const OPERATOR = /^(>=|<=|!=|!%|!@|>|<|=|!|@|%)?(.+)$/;

/** Bitrix24 writes dates as `2026-11-24T12:00:00+03:00`; filters also accept `24.11.2026 12:00:00`. */
export function parseDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const ru = /^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (ru) {
    const [, d, m, y, hh = '00', mm = '00', ss = '00'] = ru;
    return Date.parse(`${y}-${m}-${d}T${hh}:${mm}:${ss}+03:00`);
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Offset of the emulated portal's time zone (Europe/Minsk, no DST). */
const PORTAL_OFFSET_MS = 3 * 3600 * 1000;

/** Formats epoch ms as Bitrix24 does in REST answers: `2026-11-24T12:00:00+03:00`. */
export function formatDate(ms: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + PORTAL_OFFSET_MS).toISOString();
  return `${local.slice(0, 19)}+03:00`;
}

const isDateField = (field: string) =>
  /^DATE_|_DATE$|_TIME$|^BIRTHDATE$/.test(field) ||
  field === 'DATE_CREATE' ||
  field === 'DATE_MODIFY';

const digits = (v: string) => v.replace(/\D+/g, '');

/** Scalar to compare: booleans as '1'/'0', so `Y`, `1`, `true` all match a boolean field. */
function norm(value: unknown): string {
  if (value === true) return '1';
  if (value === false) return '0';
  if (value === null || value === undefined) return '';
  return String(value);
}

function normFilterValue(value: unknown, actual: unknown): string {
  if (typeof actual === 'boolean') {
    if (value === 'Y' || value === '1' || value === 1 || value === true || value === 'true')
      return '1';
    if (
      value === 'N' ||
      value === '0' ||
      value === 0 ||
      value === false ||
      value === 'false' ||
      value === ''
    )
      return '0';
  }
  return norm(value);
}

/** -1 / 0 / 1: dates as dates, numbers as numbers, the rest as strings. */
export function compareValues(field: string, a: unknown, b: unknown): number {
  if (isDateField(field)) {
    const ta = parseDate(norm(a));
    const tb = parseDate(norm(b));
    if (ta !== undefined && tb !== undefined) return Math.sign(ta - tb);
  }
  const sa = norm(a);
  const sb = norm(b);
  const na = Number(sa);
  const nb = Number(sb);
  if (sa !== '' && sb !== '' && Number.isFinite(na) && Number.isFinite(nb))
    return Math.sign(na - nb);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function scalarMatches(op: string, field: string, actual: unknown, wanted: unknown): boolean {
  const list = Array.isArray(wanted)
    ? wanted
    : wanted && typeof wanted === 'object'
      ? Object.values(wanted)
      : null;
  switch (op) {
    case '':
    case '=':
    case '@':
      if (list) return list.some((w) => scalarMatches('=', field, actual, w));
      if (field === 'PHONE') return digits(norm(actual)) === digits(norm(wanted));
      if (norm(actual) === normFilterValue(wanted, actual)) return true;
      // "5" equals 5.0, and a date equals the same instant written another way.
      return (
        norm(actual) !== '' && norm(wanted) !== '' && compareValues(field, actual, wanted) === 0
      );
    case '!':
    case '!=':
    case '!@':
      return !scalarMatches('=', field, actual, wanted);
    case '%':
      return norm(actual).toLowerCase().includes(norm(wanted).toLowerCase());
    case '!%':
      return !norm(actual).toLowerCase().includes(norm(wanted).toLowerCase());
    case '>':
      return norm(actual) !== '' && compareValues(field, actual, wanted) > 0;
    case '>=':
      return norm(actual) !== '' && compareValues(field, actual, wanted) >= 0;
    case '<':
      return norm(actual) !== '' && compareValues(field, actual, wanted) < 0;
    case '<=':
      return norm(actual) !== '' && compareValues(field, actual, wanted) <= 0;
    default:
      return false;
  }
}

/** Whether `rec` passes every condition of `filter` (conditions are ANDed; LOGIC is not emulated). */
export function matchesFilter(rec: CrmRecord, filter: Record<string, unknown>): boolean {
  for (const [rawKey, wanted] of Object.entries(filter)) {
    if (rawKey === 'LOGIC') continue;
    const m = OPERATOR.exec(rawKey);
    if (!m) continue;
    const op = m[1] ?? '';
    const field = m[2] as string;
    if (MULTI_FIELDS.has(field)) {
      const values = ((rec[field] as MultiFieldValue[] | undefined) ?? []).map((v) => v.VALUE);
      const negative = op.startsWith('!');
      const positiveOp = negative ? op.slice(1) || '=' : op;
      const any = values.some((v) => scalarMatches(positiveOp, field, v, wanted));
      if (negative ? any : !any) return false;
      continue;
    }
    if (!scalarMatches(op, field, rec[field], wanted)) return false;
  }
  return true;
}

/** Sorts by `order` (`{FIELD: 'ASC' | 'DESC'}`), then by ID ascending. */
export function sortRecords(records: CrmRecord[], order: Record<string, unknown>): CrmRecord[] {
  const keys = Object.entries(order).map(([field, dir]) => ({
    field,
    desc: String(dir).toUpperCase() === 'DESC',
  }));
  return [...records].sort((a, b) => {
    for (const { field, desc } of keys) {
      const c = compareValues(field, a[field], b[field]);
      if (c !== 0) return desc ? -c : c;
    }
    return compareValues('ID', a.ID, b.ID);
  });
}
