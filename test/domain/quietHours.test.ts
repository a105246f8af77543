import { describe, expect, it } from 'vitest';
import {
  isQuietTime,
  MTS_CURFEW,
  nextAllowedTime,
  parseQuietHours,
  type QuietWindow,
} from '../../src/domain/quietHours.js';
import { ValidationError } from '../../src/errors.js';

describe('parseQuietHours', () => {
  const good: [string, QuietWindow | null][] = [
    ['21:00-09:00', { start: 21 * 60, end: 9 * 60 }],
    ['9:00-18:30', { start: 9 * 60, end: 18 * 60 + 30 }],
    [' 21:00 - 09:00 ', { start: 21 * 60, end: 9 * 60 }],
    ['21:00–09:00', { start: 21 * 60, end: 9 * 60 }],
    ['22:00-24:00', { start: 22 * 60, end: 24 * 60 }],
    ['00:00-07:00', { start: 0, end: 7 * 60 }],
    ['', null],
    ['   ', null],
    ['mts', MTS_CURFEW],
    [' MTS ', MTS_CURFEW],
    [
      'workdays 20:00-09:00; weekends 18:00-11:00',
      { workdays: { start: 1200, end: 540 }, weekends: { start: 1080, end: 660 } },
    ],
    [
      'Weekends=18:00-11:00, workdays: 20:00-09:00',
      { workdays: { start: 1200, end: 540 }, weekends: { start: 1080, end: 660 } },
    ],
    ['holidays 18:00-11:00', { workdays: null, weekends: { start: 1080, end: 660 } }],
    [
      'workdays 21:00-09:00; weekends none',
      { workdays: { start: 1260, end: 540 }, weekends: null },
    ],
  ];
  it.each(good)('%j', (spec, window) => {
    expect(parseQuietHours(spec)).toEqual(window);
  });

  const bad: [string, RegExp][] = [
    ['21-09', /bad syntax/],
    ['21:00', /bad syntax/],
    ['abc', /bad syntax/],
    ['21:00-09:00-10:00', /bad syntax/],
    ['21:0-09:00', /bad syntax/],
    ['25:00-09:00', /start is not a time of day/],
    ['24:00-09:00', /start is not a time of day/],
    ['21:60-09:00', /start is not a time of day/],
    ['21:00-24:01', /end is not a time of day/],
    ['21:00-09:75', /end is not a time of day/],
    ['09:00-09:00', /no time or the whole day/],
    ['00:00-24:00', /no time or the whole day/],
    ['workdays', /bad syntax/],
    ['sundays 10:00-11:00', /bad syntax in "sundays 10:00-11:00"/],
    ['workdays 20:00-09:00; workdays 21:00-09:00', /workdays is given twice/],
    ['weekends 18:00-11:00; holidays none', /weekends is given twice/],
    ['workdays 25:00-09:00', /start is not a time of day/],
    [';', /bad syntax/],
  ];
  it.each(bad)('refuses %j', (spec, why) => {
    expect(() => parseQuietHours(spec)).toThrow(ValidationError);
    expect(() => parseQuietHours(spec)).toThrow(why);
    expect(() => parseQuietHours(spec)).toThrow(/expected HH:MM-HH:MM such as 21:00-09:00/);
  });
});

/** Epoch ms of a wall-clock time in Minsk, which is UTC+3 all year. */
const minsk = (y: number, mo: number, d: number, h: number, mi = 0, s = 0, ms = 0) =>
  Date.UTC(y, mo - 1, d, h - 3, mi, s, ms);

describe('nextAllowedTime in Europe/Minsk', () => {
  const night = parseQuietHours('21:00-09:00');
  const lunch = parseQuietHours('13:00-14:00');
  const evening = parseQuietHours('22:00-24:00');
  const early = parseQuietHours('00:00-07:00');

  const cases: [string, QuietWindow | null, number, number][] = [
    ['no window', null, minsk(2026, 3, 10, 23), minsk(2026, 3, 10, 23)],
    ['day, outside', night, minsk(2026, 3, 10, 12), minsk(2026, 3, 10, 12)],
    [
      'last ms before start',
      night,
      minsk(2026, 3, 10, 20, 59, 59, 999),
      minsk(2026, 3, 10, 20, 59, 59, 999),
    ],
    ['exactly at start', night, minsk(2026, 3, 10, 21), minsk(2026, 3, 11, 9)],
    ['late evening', night, minsk(2026, 3, 10, 23, 30), minsk(2026, 3, 11, 9)],
    ['last minute of the day', night, minsk(2026, 3, 10, 23, 59, 59, 999), minsk(2026, 3, 11, 9)],
    ['midnight', night, minsk(2026, 3, 11, 0), minsk(2026, 3, 11, 9)],
    ['early morning', night, minsk(2026, 3, 11, 5, 17, 3), minsk(2026, 3, 11, 9)],
    ['last ms before end', night, minsk(2026, 3, 11, 8, 59, 59, 999), minsk(2026, 3, 11, 9)],
    ['exactly at end', night, minsk(2026, 3, 11, 9), minsk(2026, 3, 11, 9)],
    ['new year', night, minsk(2026, 12, 31, 22), minsk(2027, 1, 1, 9)],
    ['end of February', night, minsk(2028, 2, 28, 21, 30), minsk(2028, 2, 29, 9)],
    ['non-crossing, before', lunch, minsk(2026, 3, 10, 12, 59, 59), minsk(2026, 3, 10, 12, 59, 59)],
    ['non-crossing, at start', lunch, minsk(2026, 3, 10, 13), minsk(2026, 3, 10, 14)],
    ['non-crossing, inside', lunch, minsk(2026, 3, 10, 13, 45), minsk(2026, 3, 10, 14)],
    ['non-crossing, at end', lunch, minsk(2026, 3, 10, 14), minsk(2026, 3, 10, 14)],
    ['non-crossing, night', lunch, minsk(2026, 3, 10, 2), minsk(2026, 3, 10, 2)],
    ['ends at 24:00', evening, minsk(2026, 3, 10, 23), minsk(2026, 3, 11, 0)],
    ['ends at 24:00, before', evening, minsk(2026, 3, 10, 21, 59), minsk(2026, 3, 10, 21, 59)],
    ['starts at 00:00', early, minsk(2026, 3, 10, 0), minsk(2026, 3, 10, 7)],
    ['starts at 00:00, evening', early, minsk(2026, 3, 10, 23), minsk(2026, 3, 10, 23)],
  ];
  it.each(cases)('%s', (_name, window, now, next) => {
    expect(nextAllowedTime(now, window)).toBe(next);
    expect(isQuietTime(now, window)).toBe(next !== now);
  });
});

describe('nextAllowedTime in other zones', () => {
  const night = parseQuietHours('22:00-06:00');
  const cases: [string, string, number, number][] = [
    // Berlin springs forward at 02:00 on 2024-03-31: 06:00 CEST is 04:00Z, not 05:00Z.
    [
      'Berlin, DST starts overnight',
      'Europe/Berlin',
      Date.UTC(2024, 2, 30, 22),
      Date.UTC(2024, 2, 31, 4),
    ],
    // …and falls back at 03:00 on 2024-10-27: 06:00 CET is 05:00Z.
    [
      'Berlin, DST ends overnight',
      'Europe/Berlin',
      Date.UTC(2024, 9, 26, 21),
      Date.UTC(2024, 9, 27, 5),
    ],
    [
      'Berlin, inside the repeated hour',
      'Europe/Berlin',
      Date.UTC(2024, 9, 27, 0, 30),
      Date.UTC(2024, 9, 27, 5),
    ],
    ['UTC', 'UTC', Date.UTC(2026, 0, 1, 23), Date.UTC(2026, 0, 2, 6)],
    ['Tokyo (UTC+9)', 'Asia/Tokyo', Date.UTC(2026, 0, 1, 14), Date.UTC(2026, 0, 1, 21)],
    ['Tokyo, outside', 'Asia/Tokyo', Date.UTC(2026, 0, 1, 3), Date.UTC(2026, 0, 1, 3)],
  ];
  it.each(cases)('%s', (_name, zone, now, next) => {
    expect(nextAllowedTime(now, night, zone)).toBe(next);
  });

  it('uses the zone, not the process clock: 20:00Z is 23:00 in Minsk', () => {
    const window = parseQuietHours('21:00-09:00');
    expect(nextAllowedTime(Date.UTC(2026, 5, 1, 20), window)).toBe(Date.UTC(2026, 5, 2, 6));
    expect(nextAllowedTime(Date.UTC(2026, 5, 1, 20), window, 'UTC')).toBe(Date.UTC(2026, 5, 1, 20));
  });
});

describe('a schedule by kind of day (MTS curfew), on the Minsk calendar', () => {
  // Allowed 09:00–20:00 on working days, 11:00–18:00 on weekends and public holidays.
  const cases: [string, number, number][] = [
    ['Friday, working hours', minsk(2026, 11, 27, 12), minsk(2026, 11, 27, 12)],
    ['Friday 20:30 → Saturday 11:00', minsk(2026, 11, 27, 20, 30), minsk(2026, 11, 28, 11)],
    ['Saturday 08:00 → 11:00', minsk(2026, 11, 28, 8), minsk(2026, 11, 28, 11)],
    ['Saturday 12:00 is allowed', minsk(2026, 11, 28, 12), minsk(2026, 11, 28, 12)],
    ['Saturday 18:00 → Sunday 11:00', minsk(2026, 11, 28, 18), minsk(2026, 11, 29, 11)],
    ['Sunday 19:00 → Monday 09:00', minsk(2026, 11, 29, 19), minsk(2026, 11, 30, 9)],
    ['Monday 08:59 → 09:00', minsk(2026, 11, 30, 8, 59), minsk(2026, 11, 30, 9)],
    [
      'Thursday 21:00 before Labour Day → Friday 11:00',
      minsk(2026, 4, 30, 21),
      minsk(2026, 5, 1, 11),
    ],
    ['Labour Day (a Friday) 10:00 → 11:00', minsk(2026, 5, 1, 10), minsk(2026, 5, 1, 11)],
    ['Labour Day 19:00 → Saturday 11:00', minsk(2026, 5, 1, 19), minsk(2026, 5, 2, 11)],
    ['Radunitsa (a Tuesday) 10:00 → 11:00', minsk(2026, 4, 21, 10), minsk(2026, 4, 21, 11)],
    ['Radunitsa 18:30 → Wednesday 09:00', minsk(2026, 4, 21, 18, 30), minsk(2026, 4, 22, 9)],
    ['31 December 20:00 → 1 January 11:00', minsk(2026, 12, 31, 20), minsk(2027, 1, 1, 11)],
    ['1 January 18:00 → 2 January 11:00', minsk(2027, 1, 1, 18), minsk(2027, 1, 2, 11)],
    [
      'Orthodox Christmas 7 January 2027 (a Thursday) 09:30 → 11:00',
      minsk(2027, 1, 7, 9, 30),
      minsk(2027, 1, 7, 11),
    ],
  ];
  it.each(cases)('%s', (_name, now, next) => {
    expect(nextAllowedTime(now, parseQuietHours('mts'))).toBe(next);
    expect(isQuietTime(now, MTS_CURFEW)).toBe(next !== now);
  });

  it('a kind of day without quiet hours', () => {
    const workdaysOnly = parseQuietHours('workdays 21:00-09:00; weekends none');
    expect(nextAllowedTime(minsk(2026, 11, 28, 23), workdaysOnly)).toBe(minsk(2026, 11, 28, 23));
    // Friday night's quiet ends at Saturday midnight: Saturday has none.
    expect(nextAllowedTime(minsk(2026, 11, 27, 22), workdaysOnly)).toBe(minsk(2026, 11, 28, 0));
    // Sunday evening is free, Monday morning quiet.
    expect(nextAllowedTime(minsk(2026, 11, 30, 2), workdaysOnly)).toBe(minsk(2026, 11, 30, 9));
  });
});
