/**
 * Days off in Belarus: Saturdays, Sundays and the public holidays that are days off:
 * 1 and 2 January, 7 January (Orthodox Christmas), 8 March, 1 May, 9 May, 3 July,
 * 7 November, 25 December (Catholic Christmas), and Radunitsa — the Tuesday nine days after
 * Orthodox Easter.
 *
 * Not covered: the government's yearly transfers of working days (a Saturday worked to
 * make a bridge day off); those change each year by resolution.
 */

/** Fixed-date public holidays as `month-day`. */
const FIXED = new Set(['1-1', '1-2', '1-7', '3-8', '5-1', '5-9', '7-3', '11-7', '12-25']);

/** A calendar date (no time zone). */
export interface CalendarDate {
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
}

/**
 * Orthodox Easter Sunday of `year` in the Gregorian calendar: Meeus's Julian algorithm, then
 * the 13-day Julian→Gregorian offset (valid 1900–2099).
 */
export function orthodoxEaster(year: number): CalendarDate {
  if (year < 1900 || year > 2099)
    throw new RangeError(`orthodoxEaster: ${year} is outside 1900–2099`);
  const a = year % 4;
  const b = year % 7;
  const c = year % 19;
  const d = (19 * c + 15) % 30;
  const e = (2 * a + 4 * b - d + 34) % 7;
  const julianMonth = Math.floor((d + e + 114) / 31);
  const julianDay = ((d + e + 114) % 31) + 1;
  return addDays({ year, month: julianMonth, day: julianDay }, 13);
}

/** Radunitsa: Orthodox Easter + 9 days, always a Tuesday. */
export function radunitsa(year: number): CalendarDate {
  return addDays(orthodoxEaster(year), 9);
}

export function addDays(d: CalendarDate, days: number): CalendarDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** True on a Belarusian public holiday. */
export function isBelarusHoliday(d: CalendarDate): boolean {
  if (FIXED.has(`${d.month}-${d.day}`)) return true;
  const r = radunitsa(d.year);
  return r.month === d.month && r.day === d.day;
}

/** True on a Saturday, a Sunday or a Belarusian public holiday. */
export function isDayOff(d: CalendarDate): boolean {
  const weekday = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
  return weekday === 0 || weekday === 6 || isBelarusHoliday(d);
}
