/**
 * Calendar days and wall-clock times in Europe/Minsk, which has been UTC+3 all year since
 * 2011 (no DST): a fixed offset is exact for every date this service handles, and lets SQL
 * group by day with plain arithmetic.
 */
export const MINSK_OFFSET_MS = 3 * 3_600_000;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the Minsk day `epochMs` falls on. */
export function minskDate(epochMs: number): string {
  return new Date(epochMs + MINSK_OFFSET_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD HH:MM` Minsk time. */
export function minskDateTime(epochMs: number): string {
  return new Date(epochMs + MINSK_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** The Minsk day number (days since 1970-01-01 in Minsk) of `epochMs`. */
export function minskDayNumber(epochMs: number): number {
  return Math.floor((epochMs + MINSK_OFFSET_MS) / DAY_MS);
}

/** `YYYY-MM-DD` of a Minsk day number. */
export function minskDayOf(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The first millisecond of a Minsk calendar day given as `YYYY-MM-DD`; undefined when the
 * text is not such a date (or not a real day, e.g. 2026-02-30).
 */
export function minskDayStart(date: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  if (new Date(utc).toISOString().slice(0, 10) !== date.trim()) return undefined;
  return utc - MINSK_OFFSET_MS;
}
