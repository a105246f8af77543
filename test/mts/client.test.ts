import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MtsEmulator, startMtsEmulator } from '../../src/emulators/mts/index.js';
import { createMtsClient, type MtsClientOptions } from '../../src/mts/client.js';
import { MtsError } from '../../src/mts/errors.js';
import type { MtsSendRequest } from '../../src/mts/types.js';
import { waitFor } from '../emulators/mts/waitFor.js';

let emu: MtsEmulator;

beforeAll(async () => {
  emu = await startMtsEmulator({ token: 'secret-token', dlr: { delayMs: 10_000 } });
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

/** The MtsError a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<MtsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MtsError);
    return e as MtsError;
  }
  throw new Error('expected the call to fail');
}

describe('send', () => {
  it('posts exactly the SPEC body with Basic auth and returns message_id', async () => {
    const { messageId } = await client().send({
      ...req,
      callbackUrl: 'https://example.test/mts/dlr/k',
      tag: 'campaign-7',
      startTime: new Date('2026-11-24T07:00:00Z'),
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
      start_time: '2026-11-24 10:00:00+03:00',
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

  it('maps 36024 to permanent', async () => {
    const e = await failure(client().send({ ...req, phone: '+37529123456' }));
    expect(e).toMatchObject({
      action: 'permanent',
      code: 'MTS_36024',
      httpStatus: 400,
      mtsCode: 36024,
    });
    expect(emu.sent).toHaveLength(0);
  });

  it('retries a code MTS does not have, flagged (the old emulator invented 36016)', async () => {
    const e = await failure(client().send({ ...req, alphaName: 'NOPE' }));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_36016', unknownCode: true });
  });

  it('maps 401 to pause with a hint', async () => {
    const e = await failure(client({ password: 'wrong' }).send(req));
    expect(e).toMatchObject({ action: 'pause', code: 'MTS_UNAUTHORIZED', httpStatus: 401 });
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
});

/** A port nothing listens on: bind one, then release it. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
