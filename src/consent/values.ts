import { normalizePhone } from '../domain/phone.js';
import type { ConsentEntityType, ConsentRecordInput } from '../store/index.js';

/**
 * Reads a boolean user field as each API writes it: `"1"`/`"0"` (crm.contact.*), `"Y"`/`"N"`
 * (crm.item.*), JSON booleans and numbers. Empty (`null`, `""`, absent) is `null`: the field
 * is not set on this record, which is no consent but also not an explicit "no".
 */
export function parseConsentValue(value: unknown): boolean | null {
  if (Array.isArray(value)) value = value[0];
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  if (typeof value !== 'string') return null;
  const v = value.trim().toUpperCase();
  if (v === '1' || v === 'Y' || v === 'TRUE' || v === 'YES') return true;
  if (v === '0' || v === 'N' || v === 'FALSE' || v === 'NO') return false;
  return null;
}

/** Bitrix24 dates (`2026-11-24T12:00:00+03:00`) as epoch ms; undefined when unreadable. */
export function parseB24Date(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Epoch ms as a Bitrix24 filter date (ISO 8601 with offset, whole seconds, UTC). */
export function b24FilterDate(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

/** The normalized Belarus mobile numbers of a `PHONE` multifield; others are skipped. */
export function phonesOf(multifield: unknown): string[] {
  const items = Array.isArray(multifield)
    ? multifield
    : multifield && typeof multifield === 'object'
      ? Object.values(multifield)
      : [];
  const out = new Set<string>();
  for (const item of items) {
    const raw =
      typeof item === 'string'
        ? item
        : item && typeof item === 'object'
          ? (item as { VALUE?: unknown }).VALUE
          : undefined;
    if (typeof raw !== 'string') continue;
    const n = normalizePhone(raw);
    if (n.ok) out.add(n.phone);
  }
  return [...out];
}

/** A `crm.contact.list` / `crm.lead.list` row as the registry stores it. */
export function toConsentRecord(
  entityType: ConsentEntityType,
  raw: Record<string, unknown>,
  field: string,
): ConsentRecordInput {
  return {
    entityType,
    entityId: Number(raw.ID),
    phones: phonesOf(raw.PHONE),
    consent: parseConsentValue(raw[field]),
    modifiedAt: parseB24Date(raw.DATE_MODIFY) ?? null,
  };
}

export { pageItems } from '../bitrix24/list.js';
