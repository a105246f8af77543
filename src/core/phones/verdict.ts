import { normalizePhone } from '../../domain/phone.js';

/** The CRM types whose records carry the PHONE multifield (`crm.multifield.fields`). */
export const PHONE_ENTITIES = ['contact', 'lead', 'company'] as const;
export type PhoneEntity = (typeof PHONE_ENTITIES)[number];

/** SPEC §6 verdicts of one PHONE value. */
export const VERDICTS = ['ok', 'fixable', 'landline', 'foreign', 'malformed', 'duplicate'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One PHONE value of a CRM record, as the scan report (CSV) lists it. */
export interface PhoneRow {
  entity: PhoneEntity;
  /** The record's ID. */
  id: number;
  /** The multifield value's own ID (what an update names). */
  valueId: string;
  /** `MOBILE`, `WORK`, … as stored. */
  valueType: string;
  /** The value exactly as stored in the CRM. */
  original: string;
  /** `+375XXXXXXXXX`; empty for landline, foreign and malformed values. */
  normalized: string;
  verdict: Verdict;
}

/**
 * Classifies one stored value with the normalization used for sending (`normalizePhone`).
 * `seen` holds the mobile numbers met earlier in the scan's order and receives this one:
 * a number already there is a `duplicate`, whatever its spelling. Only mobile numbers can
 * be duplicates.
 */
export function classifyPhone(
  original: string,
  seen: Set<string>,
): Pick<PhoneRow, 'normalized' | 'verdict'> {
  const n = normalizePhone(original);
  if (!n.ok) {
    const verdict: Verdict =
      n.reason === 'invalid: landline'
        ? 'landline'
        : n.reason === 'invalid: not a Belarus number'
          ? 'foreign'
          : 'malformed';
    return { normalized: '', verdict };
  }
  if (seen.has(n.phone)) return { normalized: n.phone, verdict: 'duplicate' };
  seen.add(n.phone);
  return { normalized: n.phone, verdict: original === n.phone ? 'ok' : 'fixable' };
}

/** Whether a value holds a number SMS can go to (duplicates are numbers too). */
export function isValidMobile(verdict: Verdict): boolean {
  return verdict === 'ok' || verdict === 'fixable' || verdict === 'duplicate';
}

/** Counts of a scan, the `phones scan --json` document without `rest_requests`. */
export interface ScanTally {
  /** Records read per CRM type. */
  scanned: Partial<Record<PhoneEntity, number>>;
  values: number;
  ok: number;
  fixable: number;
  landline: number;
  foreign: number;
  malformed: number;
  duplicate: number;
}

export function emptyTally(entities: readonly PhoneEntity[]): ScanTally {
  return {
    scanned: Object.fromEntries(entities.map((e) => [e, 0])),
    values: 0,
    ok: 0,
    fixable: 0,
    landline: 0,
    foreign: 0,
    malformed: 0,
    duplicate: 0,
  };
}

/** Adds one row to the counts. */
export function countRow(tally: ScanTally, row: Pick<PhoneRow, 'verdict'>): void {
  tally.values += 1;
  tally[row.verdict] += 1;
}
