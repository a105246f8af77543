import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MtsEmulator, startMtsEmulator } from '../../src/emulators/mts/index.js';
import { createMtsClient, type MtsClientOptions } from '../../src/mts/client.js';
import type { MtsSendRequest } from '../../src/mts/types.js';
import { formatMinskTime } from '../../src/mts/wire.js';
import { waitFor } from '../emulators/mts/waitFor.js';
import { failure } from './failure.js';

let emu: MtsEmulator;

beforeAll(async () => {
  emu = await startMtsEmulator({
    token: 'secret-token',
    alphaNames: ['SANDBOX'],
    dlr: { delayMs: 10_000 },
  });
});
afterEach(() => emu.reset());
afterAll(() => emu.close());

function client(over: Partial<MtsClientOptions> = {}) {
  return createMtsClient({
    baseUrl: emu.url,
    clientId: emu.clientId,
    login: 'sandbox',
    password: 'sandbox',
    timeoutMs: 2000,
    ...over,
  });
}

const req: MtsSendRequest = {
  phone: '+375291234567',
  extraId: 'msg-1',
  text: 'Hello',
  alphaName: 'SANDBOX',
  ttl: 86400,
};

describe('send', () => {
  it('posts exactly the SPEC body with Basic auth and returns message_id', async () => {
    const inOneHour = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000);
    const { messageId } = await client().send({
      ...req,
      callbackUrl: 'https://example.test/mts/dlr/k',
      tag: 'campaign-7',
      // MTS refuses a start_time in the past (10244): one hour ahead, whole seconds.
      startTime: inOneHour,
    });
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(emu.sent).toHaveLength(1);
    const s = emu.sent[0];
    expect(s).toMatchObject({ messageId, extraId: 'msg-1', phone: '375291234567', auth: 'basic' });
    const expected = {
      phone_number: 375291234567,
      extra_id: 'msg-1',
      callback_url: 'https://example.test/mts/dlr/k',
      tag: 'campaign-7',
      start_time: formatMinskTime(inOneHour),
      channels: ['sms'],
      channel_options: { sms: { text: 'Hello', alpha_name: 'SANDBOX', ttl: 86400 } },
    };
    expect(s?.body).toStrictEqual(expected);
    expect(JSON.stringify(s?.body)).toBe(JSON.stringify(expected));
  });

  it('uses Bearer auth when a token is given', async () => {
    await client({ login: undefined, password: undefined, token: 'secret-token' }).send(req);
    expect(emu.sent[0]?.auth).toBe('bearer');
  });

  it('refuses to build a client without credentials', () => {
    expect(() => client({ login: undefined, password: undefined })).toThrow(/MTS_API_TOKEN/);
  });

  it('maps a bad number (10243 inside a 200) to permanent', async () => {
    const e = await failure(client().send({ ...req, phone: '+37529123456' }));
    expect(e).toMatchObject({
      action: 'permanent',
      code: 'MTS_10243',
      httpStatus: 200,
      mtsCode: 10243,
      ambiguous: false,
      unknownCode: false,
    });
    expect(emu.sent).toHaveLength(0);
  });

  it('maps an alpha name MTS does not permit (10262) to hold, naming it', async () => {
    const e = await failure(client().send({ ...req, alphaName: 'NOPE' }));
    expect(e).toMatchObject({ action: 'hold', code: 'MTS_10262', httpStatus: 200 });
    expect(e.message).toContain('alpha name "NOPE"');
    expect(e.message).toContain('MTS_SENDER');
  });

  it('maps wrong credentials (401 with 1130) to pause with a hint', async () => {
    const e = await failure(client({ password: 'wrong' }).send(req));
    expect(e).toMatchObject({ action: 'pause', code: 'MTS_1130', httpStatus: 401 });
    expect(e.message).toContain('check MTS_LOGIN/MTS_PASSWORD or MTS_API_TOKEN');
  });

  it('maps 402 to pause', async () => {
    emu.failNext(1, 402);
    const e = await failure(client().send(req));
    expect(e).toMatchObject({ action: 'pause', code: 'MTS_INSUFFICIENT_BALANCE', httpStatus: 402 });
  });

  it('maps 429 to slow with retryAfterMs, not ambiguous', async () => {
    emu.failNext(1, 429);
    const e = await failure(client().send(req));
    expect(e).toMatchObject({
      action: 'slow',
      code: 'MTS_RATE_LIMITED',
      retryAfterMs: 1000,
      ambiguous: false,
    });
  });

  it('maps 500 to retry, ambiguous', async () => {
    emu.failNext(1, 500);
    const e = await failure(client().send(req));
    expect(e).toMatchObject({
      action: 'retry',
      code: 'MTS_SERVER_ERROR',
      ambiguous: true,
      httpStatus: 500,
    });
    // failNext is one-shot: the next send goes through.
    await expect(client().send(req)).resolves.toHaveProperty('messageId');
  });

  it('treats an error body inside a 200 as an error', async () => {
    emu.failNext(1, 200, { error_code: 36024, error_text: 'Phone number incorrect' });
    const e = await failure(client().send(req));
    expect(e).toMatchObject({ action: 'permanent', code: 'MTS_36024', httpStatus: 200 });
  });

  it('takes a message_id with an empty error code as accepted, and one with a code as refused', async () => {
    emu.failNext(1, 200, { message_id: 'm-0', error_code: 0, error_text: '' });
    await expect(client().send(req)).resolves.toEqual({ messageId: 'm-0' });
    emu.failNext(1, 200, { message_id: 'm-1', error_code: null });
    await expect(client().send(req)).resolves.toEqual({ messageId: 'm-1' });
    emu.failNext(1, 200, { message_id: 'm-2', error_code: 10229 });
    expect(await failure(client().send(req))).toMatchObject({ action: 'pause', code: 'MTS_10229' });
  });

  it('treats a 200 without message_id as ambiguous', async () => {
    emu.failNext(1, 200, { ok: true });
    const e = await failure(client().send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_BAD_RESPONSE', ambiguous: true });
  });

  it('maps a wrong client id to pause', async () => {
    const e = await failure(client({ clientId: '9999' }).send(req));
    expect(e).toMatchObject({ action: 'pause', code: 'MTS_NOT_FOUND', httpStatus: 404 });
  });

  it('maps a timeout to retry, ambiguous — and MTS did accept it', async () => {
    emu.setLatency(400);
    const e = await failure(client({ timeoutMs: 100 }).send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_TIMEOUT', ambiguous: true });
    // The reason for `ambiguous`: the emulator accepted the message after we gave up.
    await waitFor(() => emu.sent.length === 1, 'the late send to be recorded');
    emu.setLatency(0);
    const found = await client().statusByExtraId('msg-1');
    expect(found?.messageId).toBe(emu.sent[0]?.messageId);
  });

  it('maps connection refused to retry, not ambiguous', async () => {
    const port = await freePort();
    const e = await failure(client({ baseUrl: `http://127.0.0.1:${port}` }).send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_UNREACHABLE', ambiguous: false });
    expect(e.message).toContain('ECONNREFUSED');
  });
});

describe('status queries', () => {
  it('finds a message by message_id and by extra_id, -1 until final', async () => {
    const c = client();
    const { messageId } = await c.send(req);
    const pending = await c.statusByMessageId(messageId);
    expect(pending).toMatchObject({
      messageId,
      extraId: 'msg-1',
      phone: '375291234567',
      status: -1,
    });

    await emu.deliverNow();
    const byId = await c.statusByMessageId(messageId);
    const byExtra = await c.statusByExtraId('msg-1');
    expect(byId).toMatchObject({ status: 2, substatus: 23, msgStatus: 23011, deliveredParts: 1 });
    expect(byExtra).toEqual(byId);
  });

  it('URL-encodes ids and answers the latest send for an extra_id', async () => {
    const c = client();
    const extraId = 'заказ/42 #1';
    await c.send({ ...req, extraId });
    const second = await c.send({ ...req, extraId });
    expect(emu.countByExtraId(extraId)).toBe(2);
    expect((await c.statusByExtraId(extraId))?.messageId).toBe(second.messageId);
  });

  it('returns null for unknown ids', async () => {
    const c = client();
    expect(await c.statusByMessageId('00000000-0000-0000-0000-000000000000')).toBeNull();
    expect(await c.statusByExtraId('never-sent')).toBeNull();
  });

  it('throws on errors other than 404', async () => {
    const e = await failure(client({ password: 'wrong' }).statusByMessageId('x'));
    expect(e).toMatchObject({ action: 'pause', httpStatus: 401 });
  });

  it('a message MTS has not committed yet is "not found" (null), then found', async () => {
    emu.setMode({ lookupDelayMs: 300 });
    const c = client();
    const { messageId } = await c.send(req);
    expect(await c.statusByMessageId(messageId)).toBeNull();
    expect(await c.statusByExtraId('msg-1')).toBeNull();
    await new Promise((r) => setTimeout(r, 320));
    expect(await c.statusByMessageId(messageId)).toMatchObject({ messageId, status: -1 });
    expect(await c.statusByExtraId('msg-1')).toMatchObject({ messageId, extraId: 'msg-1' });
  });

  it('a lookup over the contracted rate is slow (10224), not "not found"', async () => {
    emu.setMode({ rate: 1 });
    const c = client();
    expect(await c.statusByExtraId('nothing')).toBeNull();
    const e = await failure(c.statusByExtraId('nothing'));
    expect(e).toMatchObject({ action: 'slow', code: 'MTS_10224', retryAfterMs: 1000 });
  });
});

/** `req` fields or emulator switches that make MTS answer with one of its error codes. */
interface CodeCase {
  name: string;
  /** Error code injected for the next send (failNext), when the emulator has no switch for it. */
  inject?: number;
  setup?: (emu: MtsEmulator, c: ReturnType<typeof client>) => unknown;
  req?: Partial<MtsSendRequest>;
  expected: { action: string; code: string } & Record<string, unknown>;
  message?: RegExp;
}

const hours = (n: number) => new Date(Date.now() + n * 3600_000);

const CODE_CASES: CodeCase[] = [
  // The account cannot send at all: pause.
  {
    name: 'balance exhausted (switch)',
    setup: (e) => e.setFault('balance'),
    expected: { action: 'pause', code: 'MTS_10229' },
    message: /top up the MTS Communicator account.*paused and resumes by itself/,
  },
  {
    name: 'connection inactive (switch)',
    setup: (e) => e.setFault('inactive'),
    expected: { action: 'pause', code: 'MTS_10222' },
    message: /ask MTS support to activate it/,
  },
  { name: 'no permission', inject: 10220, expected: { action: 'pause', code: 'MTS_10220' } },
  {
    name: 'connection id not found',
    inject: 10204,
    expected: { action: 'pause', code: 'MTS_10204' },
  },
  {
    name: 'no options for connection',
    inject: 10231,
    expected: { action: 'pause', code: 'MTS_10231' },
  },
  { name: 'unknown quota id', inject: 10233, expected: { action: 'pause', code: 'MTS_10233' } },
  {
    name: 'incorrect password in the body',
    inject: 1130,
    expected: { action: 'pause', code: 'MTS_1130' },
  },
  // This alpha name cannot send: hold.
  {
    name: 'alpha name held (switch)',
    setup: (e) => e.setFault('alpha'),
    expected: { action: 'hold', code: 'MTS_10262' },
    message: /alpha name "SANDBOX".*held, the others go on/,
  },
  // Slow down.
  {
    name: 'over the contracted rate (switch)',
    setup: async (e, c) => {
      e.setMode({ rate: 1 });
      await c.send({ ...req, extraId: 'first' });
    },
    expected: { action: 'slow', code: 'MTS_10224', retryAfterMs: 1000 },
    message: /slow down.*MTS_RATE_LIMIT/,
  },
  { name: 'queue full', inject: 36071, expected: { action: 'slow', code: 'MTS_36071' } },
  { name: 'unknown queue id', inject: 10225, expected: { action: 'slow', code: 'MTS_10225' } },
  { name: 'throttling exception', inject: 10226, expected: { action: 'slow', code: 'MTS_10226' } },
  // MTS internal: retry.
  ...[10201, 10208, 10215, 10216, 10230, 10235, 10239].map(
    (code): CodeCase => ({
      name: `internal ${code}`,
      inject: code,
      expected: { action: 'retry', code: `MTS_${code}` },
    }),
  ),
  {
    name: 'a code MTS never documented',
    inject: 99999,
    expected: { action: 'retry', code: 'MTS_99999', unknownCode: true },
    message: /do not know.*report it/,
  },
  // This message is wrong: permanent.
  {
    name: 'bad number',
    req: { phone: '+37529123456' },
    expected: { action: 'permanent', code: 'MTS_10243' },
  },
  {
    name: 'text over 15 parts',
    req: { text: 'a'.repeat(2296) },
    expected: { action: 'permanent', code: 'MTS_10260' },
    message: /at most 15 parts/,
  },
  { name: 'empty text', req: { text: '' }, expected: { action: 'permanent', code: 'MTS_10261' } },
  {
    name: 'extra_id over 64',
    req: { extraId: 'x'.repeat(65) },
    expected: { action: 'permanent', code: 'MTS_10246' },
  },
  {
    name: 'start_time in the past',
    req: { startTime: hours(-1) },
    expected: { action: 'permanent', code: 'MTS_10244' },
  },
  {
    name: 'start_time more than 24 h ahead',
    req: { startTime: hours(25) },
    expected: { action: 'permanent', code: 'MTS_10245' },
  },
  { name: 'black/white list', inject: 10227, expected: { action: 'permanent', code: 'MTS_10227' } },
  { name: 'spam', inject: 10234, expected: { action: 'permanent', code: 'MTS_10234' } },
  { name: 'content', inject: 10237, expected: { action: 'permanent', code: 'MTS_10237' } },
  {
    name: 'bad number (36024)',
    inject: 36024,
    expected: { action: 'permanent', code: 'MTS_36024' },
  },
];

describe('every MTS error code through the client, inside a 200 and with a non-2xx status', () => {
  it.each(CODE_CASES.flatMap((c) => [200, 400].map((status) => [c.name, status, c] as const)))(
    '%s (HTTP %i)',
    async (_name, status, c) => {
      emu.setMode({ errorHttpStatus: status });
      const mts = client();
      if (c.inject !== undefined) {
        emu.failNext(1, status, { error_code: c.inject, error_text: 'injected' });
      }
      await c.setup?.(emu, mts);
      const sentBefore = emu.sent.length;
      const e = await failure(mts.send({ ...req, ...c.req }));
      expect(e).toMatchObject({
        httpStatus: status,
        mtsCode: Number(c.expected.code.slice(4)),
        // An explicit error code: MTS did not take it, so no lookup is needed before a resend.
        ambiguous: false,
        unknownCode: false,
        ...c.expected,
      });
      if (c.message) expect(e.message).toMatch(c.message);
      expect(emu.sent).toHaveLength(sentBefore);
    },
  );
});

describe('HTTP-level MTS failures through the client', () => {
  it('password switch: 401 with 1130 → pause', async () => {
    emu.setFault('password');
    const e = await failure(client().send(req));
    expect(e).toMatchObject({ action: 'pause', code: 'MTS_1130', httpStatus: 401 });
  });

  it('403 → pause', async () => {
    emu.failNext(1, 403);
    const e = await failure(client().send(req));
    expect(e).toMatchObject({ action: 'pause', code: 'MTS_UNAUTHORIZED', httpStatus: 403 });
  });

  it('429 switch with Retry-After → slow, waiting what MTS asked', async () => {
    emu.setMode({ retryAfterSec: 3 });
    emu.setFault('429');
    const c = client();
    await c.send({ ...req, extraId: 'first' });
    const e = await failure(c.send(req));
    expect(e).toMatchObject({
      action: 'slow',
      code: 'MTS_RATE_LIMITED',
      httpStatus: 429,
      retryAfterMs: 3000,
      ambiguous: false,
    });
  });

  it('5xx switch → retry, ambiguous', async () => {
    emu.setFault('5xx');
    const e = await failure(client().send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_SERVER_ERROR', httpStatus: 503 });
    expect(e.ambiguous).toBe(true);
  });

  it('timeout switch → retry, ambiguous; MTS did not act', async () => {
    emu.setFault('timeout');
    const e = await failure(client({ timeoutMs: 150 }).send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_TIMEOUT', ambiguous: true });
    expect(e.httpStatus).toBeUndefined();
    expect(emu.sent).toHaveLength(0);
  });
});

/** A port nothing listens on: bind one, then release it. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
