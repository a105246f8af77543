import { describe, expect, it } from 'vitest';
import {
  isBelarusHoliday,
  isDayOff,
  orthodoxEaster,
  radunitsa,
} from '../../src/domain/belarusCalendar.js';

describe('Belarusian calendar', () => {
  // Published Orthodox Easter dates.
  it.each([
    [2000, 4, 30],
    [2010, 4, 4],
    [2021, 5, 2],
    [2023, 4, 16],
    [2024, 5, 5],
    [2025, 4, 20],
    [2026, 4, 12],
    [2027, 5, 2],
    [2028, 4, 16],
    [2030, 4, 28],
  ])('Orthodox Easter %i is %i/%i', (year, month, day) => {
    expect(orthodoxEaster(year)).toEqual({ year, month, day });
  });

  it.each([
    [2024, 5, 14],
    [2025, 4, 29],
    [2026, 4, 21],
    [2027, 5, 11],
  ])('Radunitsa %i is %i/%i, a Tuesday', (year, month, day) => {
    expect(radunitsa(year)).toEqual({ year, month, day });
    expect(new Date(Date.UTC(year, month - 1, day)).getUTCDay()).toBe(2);
  });

  it('public holidays, and only those', () => {
    const holidays = [
      [1, 1],
      [1, 2],
      [1, 7],
      [3, 8],
      [4, 21],
      [5, 1],
      [5, 9],
      [7, 3],
      [11, 7],
      [12, 25],
    ];
    const found: number[][] = [];
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000) {
      const d = new Date(t);
      const date = { year: 2026, month: d.getUTCMonth() + 1, day: d.getUTCDate() };
      if (isBelarusHoliday(date)) found.push([date.month, date.day]);
    }
    expect(found).toEqual(holidays);
  });

  it('days off: weekends and holidays', () => {
    expect(isDayOff({ year: 2026, month: 11, day: 27 })).toBe(false); // Friday
    expect(isDayOff({ year: 2026, month: 11, day: 28 })).toBe(true); // Saturday
    expect(isDayOff({ year: 2026, month: 11, day: 29 })).toBe(true); // Sunday
    expect(isDayOff({ year: 2026, month: 5, day: 1 })).toBe(true); // Friday, Labour Day
    expect(isDayOff({ year: 2026, month: 4, day: 21 })).toBe(true); // Tuesday, Radunitsa
    expect(isDayOff({ year: 2026, month: 4, day: 22 })).toBe(false);
    expect(() => orthodoxEaster(2100)).toThrow(RangeError);
  });
});
