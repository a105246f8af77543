import { describe, expect, it } from 'vitest';
import { maskPhone, normalizePhone } from '../../src/domain/phone.js';

describe('normalizePhone accepts Belarus mobile numbers', () => {
  const cases: [string, string][] = [
    ['+375291234567', '+375291234567'],
    ['375291234567', '+375291234567'],
    ['80291234567', '+375291234567'],
    ['8 029 123-45-67', '+375291234567'],
    ['8(029)1234567', '+375291234567'],
    ['375 29 123-45-67', '+375291234567'],
    ['+375 (29) 123 45 67', '+375291234567'],
    ['29 1234567', '+375291234567'],
    ['291234567', '+375291234567'],
    ['(029) 123-45-67', '+375291234567'],
    ['00375291234567', '+375291234567'],
    ['00 375 29 123 45 67', '+375291234567'],
    ['0291234567', '+375291234567'],
    ['810375291234567', '+375291234567'],
    ['  +375.29.123.45.67  ', '+375291234567'],
    ['+375\u00a029\u00a01234567', '+375291234567'],
    ['+375 25 512-34-56', '+375255123456'],
    ['+375 33 123-45-67', '+375331234567'],
    ['8 044 123-45-67', '+375441234567'],
  ];
  it.each(cases)('%s → %s', (input, phone) => {
    expect(normalizePhone(input)).toEqual({ ok: true, phone });
  });
});

describe('normalizePhone refuses', () => {
  const cases: [
    string,
    'invalid: landline' | 'invalid: not a Belarus number' | 'invalid: malformed',
    RegExp,
  ][] = [
    ['+375 17 123-45-67', 'invalid: landline', /landline number/],
    [
      '8 017 123-45-67',
      'invalid: landline',
      /^8 017 123-45-67 is a landline number: SMS can only go to mobile numbers \(\+375 25\/29\/33\/44\)$/,
    ],
    ['80171234567', 'invalid: landline', /landline/],
    ['8 0162 12-34-56', 'invalid: landline', /landline/],
    ['8 800 123 45 67', 'invalid: landline', /toll-free/],
    ['+375 24 912 34 56', 'invalid: landline', /VoIP/],
    ['+7 916 123-45-67', 'invalid: not a Belarus number', /Russia \(\+7\)/],
    ['+48 601 234 567', 'invalid: not a Belarus number', /Poland \(\+48\)/],
    ['+1 212 555 0123', 'invalid: not a Belarus number', /United States \(\+1\)/],
    ['0048601234567', 'invalid: not a Belarus number', /Poland/],
    ['79161234567', 'invalid: not a Belarus number', /Russia/],
    ['', 'invalid: malformed', /empty/],
    ['   ', 'invalid: malformed', /empty/],
    ['abc', 'invalid: malformed', /^abc is not a phone number/],
    ['+375 29 123 45 67 x', 'invalid: malformed', /not a phone number/],
    ['+375291234567 доб. 12', 'invalid: malformed', /not a phone number/],
    ['+375291234567, +375291234568', 'invalid: malformed', /not a phone number/],
    ['375+291234567', 'invalid: malformed', /not a phone number/],
    ['---', 'invalid: malformed', /not a phone number/],
    ['+375', 'invalid: malformed', /too few digits/],
    ['+375 29 123 45 6', 'invalid: malformed', /too few digits/],
    ['+375 29 123 45 678', 'invalid: malformed', /too many digits/],
    ['29123456', 'invalid: malformed', /too few digits/],
    ['1234567', 'invalid: malformed', /not a valid Belarus number/],
    // Valid-looking mobile code, unallocated range: the metadata knows 25[5-79] and 29[1-9].
    ['+375 25 123 45 67', 'invalid: malformed', /\+375 25 1… is not an allocated mobile range/],
    ['+375 29 012 34 56', 'invalid: malformed', /not an allocated/],
    ['+7 916 123-45-6', 'invalid: malformed', /not a valid phone number/],
    ['+0375 29 1234567', 'invalid: malformed', /not a valid phone number/],
  ];
  it.each(cases)('%s → %s', (input, reason, message) => {
    const r = normalizePhone(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    expect(r.message).toMatch(message);
  });

  it('names the input in every refusal', () => {
    for (const input of ['+375 17 123-45-67', '+48 601 234 567', '+375 29 123 45 6', 'abc']) {
      const r = normalizePhone(input);
      expect(r.ok === false && r.message.includes(input)).toBe(true);
    }
  });
});

describe('maskPhone', () => {
  const cases: [string, string][] = [
    ['+375291234567', '+375 29 ***-**-67'],
    ['+375441234500', '+375 44 ***-**-00'],
    ['+79161234567', '+791******67'],
    ['12', '12'],
  ];
  it.each(cases)('%s → %s', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });
});
