import { describe, expect, it } from 'vitest';
import { MTS_CODES } from '../../src/domain/mtsCodes.js';
import type { ErrorAction } from '../../src/errors.js';
import {
  MtsError,
  mtsErrorFromNoAnswer,
  mtsErrorFromResponse,
  parseRetryAfter,
} from '../../src/mts/errors.js';
import { CONNECT_TIMEOUT, DeadlineError } from '../../src/mts/http.js';

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

/**
 * Every submission code of MTS's table (json2 10xxx, plus 1130 and the 36xxx codes MTS
 * lists at submission) with the class SPEC §2 gives it; written out here rather than read
 * from the table under test.
 */
const EXPECTED: Record<ErrorAction, number[]> = {
  pause: [1130, 10204, 10220, 10221, 10222, 10229, 10231, 10232, 10233, 10236, 10238, 10248, 10276],
  hold: [10262],
  slow: [10224, 10225, 10226, 36071],
  retry: [
    10201, 10202, 10203, 10205, 10206, 10207, 10208, 10209, 10210, 10211, 10212, 10213, 10214,
    10215, 10216, 10223, 10228, 10230, 10235, 10239, 10242, 10275, 36020, 36051,
  ],
  permanent: [
    10217, 10218, 10219, 10227, 10234, 10237, 10240, 10241, 10243, 10244, 10245, 10246, 10247,
    10259, 10260, 10261, 10277, 36024,
  ],
};
const expectedCases = Object.entries(EXPECTED).flatMap(([action, codes]) =>
  codes.map((code) => [code, action] as [number, ErrorAction]),
);

describe('the MTS code table', () => {
  it('classifies exactly the submission codes, each once', () => {
    const classified = [...MTS_CODES.values()].filter((c) => c.class !== undefined);
    expect(classified.map((c) => c.code).sort()).toEqual(expectedCases.map(([c]) => c).sort());
  });

  it('has English and Russian texts for every code', () => {
    for (const c of MTS_CODES.values()) {
      expect(c.en.length, `${c.code} en`).toBeGreaterThan(3);
      expect(c.ru, `${c.code} ru`).toMatch(/[а-яё]/i);
    }
  });
});

describe('mtsErrorFromResponse: MTS error codes', () => {
  // Inside a 200 (as MTS does) and with a non-2xx status alike: the code decides.
  it.each(expectedCases.flatMap(([code, action]) => [200, 400].map((s) => [code, action, s])))(
    '%i → %s (HTTP %i)',
    (code, action, status) => {
      const e = mtsErrorFromResponse(status as number, { error_code: code, error_text: 'x' });
      expect(e).toBeInstanceOf(MtsError);
      expect(e).toMatchObject({
        action,
        code: `MTS_${code}`,
        mtsCode: code,
        httpStatus: status,
        // An explicit error_code: MTS did not take the message.
        ambiguous: false,
        unknownCode: false,
      });
    },
  );

  it('reads an error_code sent as a string', () => {
    expect(mtsErrorFromResponse(200, { error_code: '10229' })).toMatchObject({
      action: 'pause',
      mtsCode: 10229,
    });
  });

  it('tells a person what to do, per class', () => {
    const msg = (code: number, ctx = {}) =>
      mtsErrorFromResponse(200, { error_code: code, error_text: 'MTS text' }, ctx).message;
    expect(msg(10229)).toMatch(/^MTS cannot send anything on this account: Quota is not enough/);
    expect(msg(10229)).toMatch(/top up the MTS Communicator account/);
    expect(msg(10229)).toMatch(/paused and resumes by itself once a probe succeeds$/);
    expect(msg(1130)).toContain('check MTS_LOGIN/MTS_PASSWORD or MTS_API_TOKEN');
    expect(msg(10222)).toContain('ask MTS support to activate it');
    expect(msg(10231)).toContain('check MTS_CLIENT_ID');
    expect(msg(10262, { alphaName: 'SHOP' })).toMatch(
      /^MTS does not permit the alpha name "SHOP" \(HTTP 200, error 10262, "MTS text"\): register it with MTS/,
    );
    expect(msg(10262)).toMatch(/messages from this alpha name are held, the others go on$/);
    expect(msg(10224)).toMatch(/^MTS asks us to slow down: .*will retry in 1000 ms/);
    expect(msg(10224)).toContain('MTS_RATE_LIMIT');
    expect(msg(10243)).toMatch(/check the recipient's number; resending it as is will not help$/);
    expect(msg(10260)).toContain('at most 15 parts');
    expect(msg(10234)).toContain('2 identical texts');
    expect(msg(10216)).toMatch(/^MTS had an internal error: .*will retry/);
  });

  it('gives slow codes a wait: Retry-After when sent, else 1 s', () => {
    expect(mtsErrorFromResponse(200, { error_code: 10224 }).retryAfterMs).toBe(1000);
    expect(mtsErrorFromResponse(200, { error_code: 36071 }, { retryAfter: '4' }).retryAfterMs).toBe(
      4000,
    );
    // Other classes carry no wait of their own.
    expect(mtsErrorFromResponse(200, { error_code: 10216 }).retryAfterMs).toBeUndefined();
  });
});

describe('mtsErrorFromResponse: unknown codes', () => {
  it.each([
    [200, { error_code: 12345, error_text: '?' }, 'MTS_12345'],
    [400, { error_code: 12345 }, 'MTS_12345'],
    [200, { error_text: 'something odd' }, 'MTS_UNKNOWN_ERROR'],
    [200, { error_code: 'abc' }, 'MTS_UNKNOWN_ERROR'],
    // In MTS's table, but only as a report code: not something a send should answer.
    [200, { error_code: 36031 }, 'MTS_36031'],
  ])('HTTP %i %j → retry, flagged', (status, body, code) => {
    const e = mtsErrorFromResponse(status, body);
    expect(e).toMatchObject({ action: 'retry', code, unknownCode: true, ambiguous: false });
    expect(e.message).toMatch(/treated as temporary and retried; report it/);
  });

  it('keeps the HTTP meaning of a 5xx with an unknown code, and flags it', () => {
    expect(mtsErrorFromResponse(503, { error_code: 777 })).toMatchObject({
      action: 'retry',
      code: 'MTS_SERVER_ERROR',
      ambiguous: true,
      unknownCode: true,
    });
  });

  it('names the text MTS has for a report-only code', () => {
    expect(mtsErrorFromResponse(200, { error_code: 36031 }).message).toContain(
      '"SMS is undeliverable"',
    );
  });
});

describe('mtsErrorFromResponse: HTTP statuses', () => {
  const cases: [number, unknown, object][] = [
    [422, undefined, { action: 'permanent', code: 'MTS_HTTP_422', unknownCode: false }],
    [400, { error_code: 400 }, { action: 'permanent', code: 'MTS_HTTP_400', unknownCode: false }],
    [401, { error_code: 401 }, { action: 'pause', code: 'MTS_UNAUTHORIZED' }],
    [403, undefined, { action: 'pause', code: 'MTS_UNAUTHORIZED' }],
    [401, { error_code: 1130 }, { action: 'pause', code: 'MTS_1130' }],
    [
      200,
      { error_code: 401, error_text: 'bad auth' },
      { action: 'pause', code: 'MTS_UNAUTHORIZED' },
    ],
    [402, undefined, { action: 'pause', code: 'MTS_INSUFFICIENT_BALANCE' }],
    [404, undefined, { action: 'pause', code: 'MTS_NOT_FOUND' }],
    [408, undefined, { action: 'retry', code: 'MTS_REQUEST_TIMEOUT', ambiguous: false }],
    [
      429,
      undefined,
      { action: 'slow', code: 'MTS_RATE_LIMITED', retryAfterMs: 1000, ambiguous: false },
    ],
    [200, { error_code: 429 }, { action: 'slow', code: 'MTS_RATE_LIMITED' }],
    [503, { error_code: 503 }, { action: 'retry', code: 'MTS_SERVER_ERROR', ambiguous: true }],
    [
      500,
      undefined,
      { action: 'retry', code: 'MTS_SERVER_ERROR', ambiguous: true, unknownCode: false },
    ],
    // A known code wins over the HTTP status, and says MTS did not take the message.
    [503, { error_code: 10216 }, { action: 'retry', code: 'MTS_10216', ambiguous: false }],
    [429, { error_code: 10224 }, { action: 'slow', code: 'MTS_10224' }],
  ];
  it.each(cases)('HTTP %i %j', (status, body, expected) => {
    const e = mtsErrorFromResponse(status, body);
    expect(e).toMatchObject({ httpStatus: status, ...expected });
  });

  it('says what a human should do', () => {
    expect(mtsErrorFromResponse(401, undefined).message).toContain(
      'check MTS_LOGIN/MTS_PASSWORD or MTS_API_TOKEN',
    );
    expect(mtsErrorFromResponse(402, undefined).message).toContain('top up');
    expect(mtsErrorFromResponse(429, undefined, { retryAfter: '3' }).retryAfterMs).toBe(3000);
    const now = Date.parse('2026-11-24T09:00:00Z');
    expect(
      mtsErrorFromResponse(429, undefined, { retryAfter: 'Tue, 24 Nov 2026 09:00:02 GMT', now })
        .retryAfterMs,
    ).toBe(2000);
  });
});

describe('mtsErrorFromNoAnswer', () => {
  const url = 'https://api.communicator.mts.by/1254/json2/simple';
  const coded = (code: string) => Object.assign(new Error(code), { code });

  it.each([
    ['our deadline', new DeadlineError('late'), 'MTS_TIMEOUT', true],
    ['an aborted signal', new DOMException('aborted', 'AbortError'), 'MTS_TIMEOUT', true],
    ['a refused connection', coded('ECONNREFUSED'), 'MTS_UNREACHABLE', false],
    ['a name that does not resolve', coded('ENOTFOUND'), 'MTS_UNREACHABLE', false],
    ['a connect that timed out', coded(CONNECT_TIMEOUT), 'MTS_UNREACHABLE', false],
    ['a bad certificate', coded('CERT_HAS_EXPIRED'), 'MTS_UNREACHABLE', false],
    [
      'a code in the cause',
      new Error('wrapped', { cause: coded('ECONNREFUSED') }),
      'MTS_UNREACHABLE',
      false,
    ],
    ['a reset', coded('ECONNRESET'), 'MTS_NETWORK', true],
    ['a broken pipe', coded('EPIPE'), 'MTS_NETWORK', true],
  ] as const)('%s → %s', (_what, err, code, ambiguous) => {
    const e = mtsErrorFromNoAnswer(err, url, 15_000);
    expect(e).toMatchObject({ action: 'retry', code, ambiguous, httpStatus: undefined });
    expect(e.cause).toBe(err);
    expect(e.message).toContain(url);
  });

  it('names the code or the deadline in the message', () => {
    expect(mtsErrorFromNoAnswer(coded('ECONNREFUSED'), url, 15_000).message).toContain(
      '(ECONNREFUSED)',
    );
    expect(mtsErrorFromNoAnswer(new DeadlineError('late'), url, 15_000).message).toContain(
      'within 15000 ms',
    );
  });
});

describe('BaseError.retry', () => {
  it('is true for retry and slow only', () => {
    const r = (code: number) => mtsErrorFromResponse(200, { error_code: code }).retry;
    expect([r(10216), r(10224), r(10229), r(10262), r(10243)]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
