import { describe, expect, it } from 'vitest';
import {
  isQuietTime,
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
