import { describe, expect, it } from 'vitest';
import { mtsErrorFromResponse, parseRetryAfter } from '../../src/mts/errors.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-24T09:00:00Z');
  it('reads seconds, an HTTP date, and falls back to 1 s', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 09:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 08:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBe(1000);
    expect(parseRetryAfter('soon', now)).toBe(1000);
  });
});

describe('mtsErrorFromResponse', () => {
  const cases: [number, unknown, object][] = [
    [
      400,
      { error_code: 36024, error_text: 'Phone number incorrect' },
      { action: 'permanent', code: 'MTS_36024', mtsCode: 36024 },
    ],
    [
      200,
      { error_code: 36024, error_text: 'Phone number incorrect' },
      { action: 'permanent', code: 'MTS_36024' },
    ],
    [
      400,
      { error_code: 36016, error_text: 'Unknown alpha_name' },
      { action: 'permanent', code: 'MTS_36016' },
    ],
    [422, undefined, { action: 'permanent', code: 'MTS_HTTP_422' }],
    [401, { error_code: 401 }, { action: 'pause', code: 'MTS_UNAUTHORIZED' }],
    [403, undefined, { action: 'pause', code: 'MTS_UNAUTHORIZED' }],
    [
      200,
      { error_code: 401, error_text: 'bad auth' },
      { action: 'pause', code: 'MTS_UNAUTHORIZED' },
    ],
    [402, undefined, { action: 'pause', code: 'MTS_INSUFFICIENT_BALANCE' }],
    [
      429,
      undefined,
      { action: 'retry', code: 'MTS_RATE_LIMITED', retryAfterMs: 1000, ambiguous: false },
    ],
    [503, { error_code: 503 }, { action: 'retry', code: 'MTS_SERVER_ERROR', ambiguous: true }],
    [200, { error_code: 12345, error_text: '?' }, { action: 'permanent', code: 'MTS_12345' }],
  ];
  it.each(cases)('HTTP %i %j', (status, body, expected) => {
    const e = mtsErrorFromResponse(status, body, null);
    expect(e).toMatchObject({ httpStatus: status, ...expected });
  });

  it('says what a human should do', () => {
    expect(mtsErrorFromResponse(401, undefined).message).toContain(
      'check MTS_LOGIN/MTS_PASSWORD or MTS_API_TOKEN',
    );
    expect(mtsErrorFromResponse(402, undefined).message).toContain('top up');
    expect(mtsErrorFromResponse(429, undefined, '3').retryAfterMs).toBe(3000);
  });
});
