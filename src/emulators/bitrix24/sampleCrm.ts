/*
 * A deterministic CRM with messy phone numbers, for tests, benchmarks and the sandbox: every
 * value is generated from a known category, so what a scan must find is known exactly
 * without running the classifier that is under test.
 */

/** What a scan of the sample must report (SPEC §6 verdicts): records per type, then values. */
export type SampleExpectation = {
  scanned: { contact: number; lead: number; company: number };
} & Record<
  'values' | 'ok' | 'fixable' | 'landline' | 'foreign' | 'malformed' | 'duplicate',
  number
>;

export interface SampleCrmOptions {
  contacts: number;
  leads?: number;
  companies?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Share of values that repeat an earlier mobile number. Default 0.03. */
  duplicateShare?: number;
  /** Share of values that are not mobile numbers (landline, foreign, malformed). Default 0.02. */
  invalidShare?: number;
  /**
   * When set, contacts and leads get the marketing consent field (`UF_CRM_SMS_CONSENT`) "1"
   * with this probability, else "0" (from a PRNG of its own: the phones stay the same).
   */
  consentShare?: number;
}

/** The part of the emulator the seeder writes through. */
export interface SampleCrmTarget {
  addContact(fields: Record<string, unknown>): number;
  addLead(fields: Record<string, unknown>): number;
  addCompany(fields: Record<string, unknown>): number;
}

/** mulberry32: a small seeded PRNG, good enough to spread categories. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ways people type a Belarus mobile number (SPEC §4); the first is the normalized form. */
const FORMATS: ((code: string, s: string) => string)[] = [
  (c, s) => `+375${c}${s}`,
  (c, s) => `8 0${c} ${s.slice(0, 3)}-${s.slice(3, 5)}-${s.slice(5)}`,
  (c, s) => `80${c}${s}`,
  (c, s) => `375${c}${s}`,
  (c, s) => `+375 (${c}) ${s.slice(0, 3)} ${s.slice(3, 5)} ${s.slice(5)}`,
  (c, s) => `(0${c}) ${s.slice(0, 3)}-${s.slice(3, 5)}-${s.slice(5)}`,
  (c, s) => `${c} ${s}`,
  (c, s) => `00375${c}${s}`,
  (c, s) => `+375 ${c} ${s.slice(0, 3)}-${s.slice(3, 5)}-${s.slice(5)}`,
];

const MALFORMED = ['n/a', '+375 29 12', '12345', 'звонить после 18', '+375 29 123-45-67, 8 029 7'];
const VALUE_TYPES = ['MOBILE', 'WORK', 'HOME', 'OTHER'];
const CODES = ['29', '33', '44'];

/**
 * Adds `contacts`, then `leads`, then `companies` records (IDs ascending in that order, the
 * scan's order) with 0–2 PHONE values each: ~10 % of records have none, ~15 % two. Of the
 * values, `duplicateShare` repeat an earlier mobile number in any spelling, `invalidShare`
 * are landline, foreign or malformed, and the rest are new mobile numbers, half already
 * normalized (`ok`), half written otherwise (`fixable`). Returns what a scan must count.
 */
export function seedSampleCrm(target: SampleCrmTarget, opts: SampleCrmOptions): SampleExpectation {
  const rnd = prng(opts.seed ?? 1);
  const dupShare = opts.duplicateShare ?? 0.03;
  const invalidShare = opts.invalidShare ?? 0.02;
  const expect: SampleExpectation = {
    scanned: { contact: opts.contacts, lead: opts.leads ?? 0, company: opts.companies ?? 0 },
    ...{ values: 0, ok: 0, fixable: 0, landline: 0, foreign: 0, malformed: 0, duplicate: 0 },
  };
  const mobiles: [string, string][] = [];
  let serial = 0;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const digits = (n: number) =>
    Array.from({ length: n }, () => String(Math.floor(rnd() * 10))).join('');

  const value = (): string => {
    expect.values += 1;
    const r = rnd();
    if (r < dupShare && mobiles.length > 0) {
      expect.duplicate += 1;
      const [code, sub] = pick(mobiles);
      return pick(FORMATS)(code, sub);
    }
    if (r < dupShare + invalidShare) {
      const kind = Math.floor(rnd() * 3);
      if (kind === 0) {
        expect.landline += 1;
        return `+375 17 2${digits(2)}-${digits(2)}-${digits(2)}`;
      }
      if (kind === 1) {
        expect.foreign += 1;
        return rnd() < 0.5
          ? `+7 916 ${digits(3)}-${digits(2)}-${digits(2)}`
          : `+48 601 ${digits(3)} ${digits(3)}`;
      }
      expect.malformed += 1;
      return pick(MALFORMED);
    }
    // A number no earlier value has: the serial makes it unique.
    const code = CODES[serial % CODES.length] as string;
    const sub = String(1_000_000 + Math.floor(serial / CODES.length));
    serial += 1;
    mobiles.push([code, sub]);
    if (rnd() < 0.5) {
      expect.ok += 1;
      return (FORMATS[0] as (c: string, s: string) => string)(code, sub);
    }
    expect.fixable += 1;
    return (
      FORMATS[1 + Math.floor(rnd() * (FORMATS.length - 1))] as (c: string, s: string) => string
    )(code, sub);
  };

  const record = (i: number): Record<string, unknown> => {
    const r = rnd();
    const n = r < 0.1 ? 0 : r < 0.25 ? 2 : 1;
    const fields: Record<string, unknown> = { NAME: `Sample ${i}` };
    if (n > 0)
      fields.PHONE = Array.from({ length: n }, () => ({
        VALUE: value(),
        VALUE_TYPE: pick(VALUE_TYPES),
      }));
    return fields;
  };

  const consentRnd = prng((opts.seed ?? 1) + 7919);
  const consent = (): Record<string, unknown> =>
    opts.consentShare === undefined
      ? {}
      : { UF_CRM_SMS_CONSENT: consentRnd() < opts.consentShare ? '1' : '0' };
  for (let i = 0; i < opts.contacts; i++) target.addContact({ ...record(i), ...consent() });
  for (let i = 0; i < (opts.leads ?? 0); i++)
    target.addLead({ TITLE: `Sample lead ${i}`, ...record(i), ...consent() });
  for (let i = 0; i < (opts.companies ?? 0); i++)
    target.addCompany({ TITLE: `Sample company ${i}`, ...record(i) });
  return expect;
}
