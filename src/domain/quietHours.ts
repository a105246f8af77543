import { ValidationError } from '../errors.js';

/**
 * A daily window of local wall-clock time, `[start, end)`, in minutes after midnight.
 * `start > end` means the window crosses midnight (`21:00-09:00`).
 */
export interface QuietWindow {
  /** First quiet minute of the day, 0–1439. */
  start: number;
  /** First allowed minute again, 0–1440 (1440 = `24:00`). */
  end: number;
}

const WINDOW = /^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$/;

/**
 * Parses `HH:MM-HH:MM` (e.g. `21:00-09:00`). Empty or blank means no quiet hours: null.
 * Throws a ValidationError on anything else, including a window that starts where it ends
 * (which could mean "never" or "always").
 */
export function parseQuietHours(spec: string): QuietWindow | null {
  if (spec.trim() === '') return null;
  const m = WINDOW.exec(spec);
  const fail = (why: string) =>
    new ValidationError(
      `quiet hours ${JSON.stringify(spec)}: ${why}; expected HH:MM-HH:MM such as 21:00-09:00, or empty for none`,
      'INVALID_QUIET_HOURS',
    );
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

/** True when `nowMs` falls inside the window in `timeZone`. */
export function isQuietTime(
  nowMs: number,
  window: QuietWindow | null,
  timeZone = 'Europe/Minsk',
): boolean {
  if (!window) return false;
  const minute = msOfDay(zonedParts(nowMs, timeZone)) / 60_000;
  return inWindow(minute, window);
}

/**
 * The earliest moment at or after `nowMs` outside the quiet window: `nowMs` itself when
 * outside (or no window), else the epoch ms at which the window ends in `timeZone`
 * (default Europe/Minsk). The zone's offset comes from Intl, so DST zones work too.
 */
export function nextAllowedTime(
  nowMs: number,
  window: QuietWindow | null,
  timeZone = 'Europe/Minsk',
): number {
  if (!window) return nowMs;
  const local = zonedParts(nowMs, timeZone);
  const minute = msOfDay(local) / 60_000;
  if (!inWindow(minute, window)) return nowMs;
  // The window ends today when its end lies ahead on the clock, else tomorrow.
  const dayOffset = window.end * 60_000 > msOfDay(local) ? 0 : 1;
  const endDay = new Date(Date.UTC(local.year, local.month - 1, local.day + dayOffset));
  const end = zonedToEpoch(
    {
      year: endDay.getUTCFullYear(),
      month: endDay.getUTCMonth() + 1,
      day: endDay.getUTCDate(),
      hour: 0,
      minute: 0,
      second: 0,
      ms: window.end * 60_000,
    },
    timeZone,
  );
  return Math.max(end, nowMs);
}

function inWindow(minute: number, { start, end }: QuietWindow): boolean {
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
