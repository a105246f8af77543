/** Default longest text we accept, in SMS parts (`SMS_MAX_PARTS`): 335 UCS-2 / 765 GSM-7. */
export const DEFAULT_MAX_PARTS = 5;

/** MTS's hard limit: 15 parts = 1005 UCS-2 (any Cyrillic) or 2295 GSM-7 characters. */
export const MTS_MAX_PARTS = 15;

/** How a text travels as SMS. */
export interface SegmentCount {
  /** GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2. */
  encoding: 'GSM-7' | 'UCS-2';
  /**
   * Length in encoding units: GSM-7 septets (extension characters count 2) or UTF-16 code
   * units for UCS-2 (an emoji counts 2).
   */
  units: number;
  /** SMS parts the text is split into; 0 for an empty text. */
  parts: number;
  /** Capacity of one part for this text: 160/153 (GSM-7) or 70/67 (UCS-2), single/multipart. */
  perPart: number;
}

/** Result of {@link checkText}. */
export type TextCheck =
  | ({ ok: true } & SegmentCount)
  | ({ ok: false; reason: string } & SegmentCount);

// GSM 03.38 basic table, as characters (LF and CR included; ESC is not text).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
// Extension table: sent as ESC + char, so two septets each.
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

const LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const;

/**
 * Counts the SMS parts a text needs.
 *
 * Parts are packed the way an SMSC splits: an extension character (2 septets) or a
 * surrogate pair (2 code units) is never cut across two parts, so a multipart text can need
 * one part more than `ceil(units / perPart)`.
 */
export function countSegments(text: string): SegmentCount {
  const chars = [...text];
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  const encoding = gsm ? 'GSM-7' : 'UCS-2';
  const cost = (c: string): number => (gsm ? (GSM_EXTENSION.has(c) ? 2 : 1) : c.length);
  const units = chars.reduce((sum, c) => sum + cost(c), 0);
  const { single, multi } = LIMITS[encoding];
  if (units === 0) return { encoding, units, parts: 0, perPart: single };
  if (units <= single) return { encoding, units, parts: 1, perPart: single };

  let parts = 1;
  let used = 0;
  for (const c of chars) {
    const n = cost(c);
    if (used + n > multi) {
      parts += 1;
      used = 0;
    }
    used += n;
  }
  return { encoding, units, parts, perPart: multi };
}

/**
 * Checks that a text can be sent: not empty or blank, at most `maxParts` parts (default
 * {@link DEFAULT_MAX_PARTS}; at most {@link MTS_MAX_PARTS}, which MTS itself enforces).
 * The refusal says how many parts the text needs and the limit, in terms a CRM user
 * understands. Throws RangeError when `maxParts` is not a whole number in 1–15.
 */
export function checkText(text: string, maxParts = DEFAULT_MAX_PARTS): TextCheck {
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MTS_MAX_PARTS) {
    throw new RangeError(
      `maxParts must be a whole number from 1 to ${MTS_MAX_PARTS}, got ${maxParts}`,
    );
  }
  const counts = countSegments(text);
  if (text.trim() === '') {
    return { ok: false, reason: 'text is empty: there is nothing to send', ...counts };
  }
  if (counts.parts > maxParts) {
    return {
      ok: false,
      reason:
        `text needs ${counts.parts} SMS parts (${describeSize(text, counts)}); ` +
        `the limit is ${describeLimit(maxParts)}: shorten the text`,
      ...counts,
    };
  }
  return { ok: true, ...counts };
}

/** `5 parts = 335 characters in Cyrillic or 765 in Latin` (a single part holds 70/160). */
function describeLimit(maxParts: number): string {
  const capacity = (e: SegmentCount['encoding']) =>
    maxParts === 1 ? LIMITS[e].single : LIMITS[e].multi * maxParts;
  const parts = maxParts === 1 ? '1 part' : `${maxParts} parts`;
  return `${parts} = ${capacity('UCS-2')} characters in Cyrillic or ${capacity('GSM-7')} in Latin`;
}

function describeSize(text: string, counts: SegmentCount): string {
  if (counts.encoding === 'GSM-7') {
    const chars = [...text].length;
    return chars === counts.units
      ? `${chars} Latin characters`
      : `${chars} Latin characters, ${counts.units} counting ^ { } [ ] ~ | \\ € twice`;
  }
  if (/\p{Script=Cyrillic}/u.test(text)) return `${counts.units} Cyrillic characters`;
  // A single «, — or emoji turns a Latin text into UCS-2; name it so the user can replace it.
  const trigger = [...text].find((c) => !GSM_BASIC.has(c) && !GSM_EXTENSION.has(c));
  return `${counts.units} characters in UCS-2 because of "${trigger}"`;
}
