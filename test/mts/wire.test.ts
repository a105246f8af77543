import { describe, expect, it } from 'vitest';
import { formatMinskTime, phoneToWire, toSendBody } from '../../src/mts/wire.js';

describe('wire', () => {
  it('formats start_time in Minsk time (UTC+3)', () => {
    expect(formatMinskTime(new Date('2026-11-24T07:00:00Z'))).toBe('2026-11-24 10:00:00+03:00');
    expect(formatMinskTime(new Date('2026-12-31T22:30:05Z'))).toBe('2027-01-01 01:30:05+03:00');
  });

  it('sends the phone as a number of digits and refuses garbage', () => {
    expect(phoneToWire('+375291234567')).toBe(375291234567);
    expect(() => phoneToWire('+375 29 123')).toThrow(/normalize it/);
  });

  it('leaves optional fields out', () => {
    const body = toSendBody({
      phone: '+375291234567',
      extraId: 'x',
      text: 'hi',
      alphaName: 'A',
      ttl: 300,
    });
    expect(Object.keys(body)).toEqual(['phone_number', 'extra_id', 'channels', 'channel_options']);
  });
});
