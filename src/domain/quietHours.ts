import { ValidationError } from '../errors.js';
import { isDayOff } from './belarusCalendar.js';

/**
 * A daily window of local wall-clock time, `[start, end)`, in minutes after midnight.
 * `start > end` means the window crosses midnight (`21:00-09:00`): on each calendar day it
 * covers the morning up to `end` and the evening from `start`.
 */
export interface DailyWindow {
  /** First quiet minute of the day, 0–1439. */
  start: number;
  /** First allowed minute again, 0–1440 (1440 = `24:00`). */
  end: number;
}

/**
 * Separate windows for working days and for days off (Saturdays, Sundays and Belarusian
 * public holidays, see belarusCalendar.ts), each applied to its own calendar day. `null`:
 * no quiet hours on such days.
 */
export interface QuietSchedule {
  workdays: DailyWindow | null;
  weekends: DailyWindow | null;
}

/** Marketing quiet hours: one window every day, or a schedule by kind of day. */
export type QuietWindow = DailyWindow | QuietSchedule;

/**
 * MTS's optional curfew (SPEC §2): sending allowed 09:00–20:00 on working days and
 * 11:00–18:00 on weekends and holidays — quiet outside those hours.
 */
export const MTS_CURFEW: QuietSchedule = {
  workdays: { start: 20 * 60, end: 9 * 60 },
  weekends: { start: 18 * 60, end: 11 * 60 },
};

const WINDOW = /^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$/;
const CLAUSE = /^\s*(workdays|weekends|holidays)\s*[=:]?\s*(.*?)\s*$/i;

const SYNTAX =
  'expected HH:MM-HH:MM such as 21:00-09:00 (every day), "workdays 20:00-09:00; weekends 18:00-11:00" (weekends include Belarusian public holidays; a day kind may be "none"), "mts" (the MTS curfew), or empty for none';

/**
 * Parses marketing quiet hours (Europe/Minsk wall-clock time):
 * - `''` — none;
 * - `21:00-09:00` — the same quiet window every day (crossing midnight is fine);
 * - `workdays 20:00-09:00; weekends 18:00-11:00` — by kind of day; `weekends` (alias
 *   `holidays`) means Saturdays, Sundays and Belarusian public holidays; a kind left out, or
 *   given as `none`, has no quiet hours; `,` separates clauses too;
 * - `mts` — MTS's curfew, the same as the example above.
 * Throws a ValidationError on anything else, including a window that starts where it ends
 * (which could mean "never" or "always").
 */
export function parseQuietHours(spec: string): QuietWindow | null {
  const text = spec.trim();
  if (text === '') return null;
  const fail = (why: string) =>
    new ValidationError(
      `quiet hours ${JSON.stringify(spec)}: ${why}; ${SYNTAX}`,
      'INVALID_QUIET_HOURS',
    );
  if (text.toLowerCase() === 'mts') return MTS_CURFEW;
  if (WINDOW.test(text)) return parseWindow(text, fail);
  const schedule: QuietSchedule = { workdays: null, weekends: null };
  const seen = new Set<string>();
  for (const clause of text.split(/[;,]/)) {
    if (!clause.trim()) continue;
    const m = CLAUSE.exec(clause);
    if (!m) throw fail(`bad syntax in ${JSON.stringify(clause.trim())}`);
    const kind = (m[1] as string).toLowerCase() === 'workdays' ? 'workdays' : 'weekends';
    if (seen.has(kind)) throw fail(`${kind} is given twice`);
    seen.add(kind);
    const value = m[2] as string;
    schedule[kind] = value.toLowerCase() === 'none' ? null : parseWindow(value, fail);
  }
  if (seen.size === 0) throw fail('bad syntax');
  return schedule;
}

function parseWindow(text: string, fail: (why: string) => ValidationError): DailyWindow {
  const m = WINDOW.exec(text);
  if (!m) throw fail('bad syntax');
  const [sh, sm, eh, em] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  if (sh > 23 || sm > 59) throw fail('the start is not a time of day');
  if (eh > 24 || em > 59 || (eh === 24 && em > 0)) throw fail('the end is not a time of day');
  const start = sh * 60 + sm;
  const end = eh * 60 + em;
  if (start === end || (start === 0 && end === 1440)) {
    throw fail('the window covers no time or the whole day');
  }
  return { start, end };
}

/** The window that applies on a calendar day. */
function windowOn(day: WallClock, window: QuietWindow): DailyWindow | null {
  if ('start' in window) return window;
  return isDayOff(day) ? window.weekends : window.workdays;
}

/** True when `nowMs` falls inside the quiet hours in `timeZone`. */
export function isQuietTime(
  nowMs: number,
  window: QuietWindow | null,
  timeZone = 'Europe/Minsk',
): boolean {
  return nextAllowedTime(nowMs, window, timeZone) !== nowMs;
}

/**
 * The earliest moment at or after `nowMs` outside the quiet hours: `nowMs` itself when
 * outside (or no window), else the epoch ms at which the quiet stretch ends in `timeZone`
 * (default Europe/Minsk) — which may be days later when quiet hours of consecutive days
 * join (Friday 20:00 → Saturday 11:00 under the MTS curfew). The zone's offset comes from
 * Intl, so DST zones work too.
 */
export function nextAllowedTime(
  nowMs: number,
  window: QuietWindow | null,
  timeZone = 'Europe/Minsk',
): number {
  if (!window) return nowMs;
  let t = nowMs;
  // Each step ends one day's quiet stretch; a week of them is more than any schedule joins.
  for (let step = 0; step < 16; step++) {
    const local = zonedParts(t, timeZone);
    const minute = msOfDay(local) / 60_000;
    const w = windowOn(local, window);
    if (!w || !inWindow(minute, w)) return t;
    // Quiet until the window's end today, or, from its evening start, until midnight.
    const endMinute = w.start < w.end || minute < w.end ? w.end : 1440;
    const next = zonedToEpoch(
      { ...local, hour: 0, minute: 0, second: 0, ms: endMinute * 60_000 },
      timeZone,
    );
    if (next <= t) return t;
    t = next;
  }
  return t;
}

function inWindow(minute: number, { start, end }: DailyWindow): boolean {
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function zonedParts(epochMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(epochMs)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    ms: ((epochMs % 1000) + 1000) % 1000,
  };
}

function msOfDay(t: WallClock): number {
  return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.ms;
}

/** Offset of `timeZone` from UTC at `epochMs`, in ms (Minsk: +3 h). */
function offsetAt(epochMs: number, timeZone: string): number {
  const t = zonedParts(epochMs, timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.ms);
  return asUtc - epochMs;
}

/** The epoch ms at which the wall clock in `timeZone` shows `t` (second guess fixes DST). */
function zonedToEpoch(t: WallClock, timeZone: string): number {
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.ms);
  const guess = asUtc - offsetAt(asUtc, timeZone);
  return asUtc - offsetAt(guess, timeZone);
}
