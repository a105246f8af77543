import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type MtsEmulator,
  type MtsEmulatorOptions,
  startMtsEmulator,
} from '../../../src/emulators/mts/index.js';
import { DEFAULT_MODE } from '../../../src/emulators/mts/mode.js';
import { EmulatorState } from '../../../src/emulators/mts/state.js';
import { type DlrReceiver, startDlrReceiver } from './dlrReceiver.js';
import { waitFor } from './waitFor.js';

const basic = `Basic ${Buffer.from('sandbox:sandbox').toString('base64')}`;

/** Raw HTTP against the emulator: these tests check the wire, not our client. */
async function call(
  emu: MtsEmulator,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  auth = basic,
) {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: {
      authorization: auth,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return {
    status: res.status,
    headers: res.headers,
    json: (await res.json()) as Record<string, unknown>,
  };
}

function sendBody(over: Record<string, unknown> = {}, sms: Record<string, unknown> = {}) {
  return {
    phone_number: 375291234567,
    extra_id: 'e-1',
    channels: ['sms'],
    channel_options: { sms: { text: 'Hi', alpha_name: 'SANDBOX', ttl: 300, ...sms } },
    ...over,
  };
}

const send = (emu: MtsEmulator, over?: Record<string, unknown>, sms?: Record<string, unknown>) =>
  call(emu, 'POST', `/${emu.clientId}/json2/simple`, sendBody(over, sms));

/** An emulator and a DLR receiver for a describe block, both reset after each test. */
function emulatorWithReceiver(opts: MtsEmulatorOptions): { emu: MtsEmulator; rx: DlrReceiver } {
  const t = {} as { emu: MtsEmulator; rx: DlrReceiver };
  beforeAll(async () => {
    t.rx = await startDlrReceiver();
    t.emu = await startMtsEmulator(opts);
  });
  afterEach(() => {
    t.emu.reset();
    t.rx.bodies.length = 0;
    t.rx.script.length = 0;
  });
  afterAll(async () => {
    await t.emu.close();
    await t.rx.close();
  });
  return t;
}

describe('MTS emulator: DLR callbacks', () => {
  const t = emulatorWithReceiver({ dlr: { delayMs: 30 }, dlrRetry: { baseMs: 40 } });

  it('POSTs a delivered DLR to callback_url', async () => {
    const r = await send(t.emu, { callback_url: t.rx.url });
    expect(r.status).toBe(200);
    await waitFor(() => t.rx.bodies.length === 1, 'the DLR');
    expect(t.rx.bodies[0]).toEqual({
      number: 375291234567,
      time: expect.any(Number),
      status: 2,
      substatus: 23,
      msg_status: 23011,
      message_id: r.json.message_id,
      extra_id: 'e-1',
      sent_via: 'sms',
      total_sms_parts: 1,
      delivered_sms_parts: 1,
    });
  });

  it('retries a callback answered 500, with backoff', async () => {
    t.rx.script.push(500, 503);
    await send(t.emu, { callback_url: t.rx.url });
    await waitFor(() => t.emu.callbacks.length === 3, 'the third DLR attempt');
    expect(t.emu.callbacks.map((c) => [c.attempt, c.status])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    const [a, b, c] = t.emu.callbacks;
    // 40 ms then 80 ms: exponential from baseMs.
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(35);
    expect((c?.at ?? 0) - (b?.at ?? 0)).toBeGreaterThanOrEqual(75);
    expect(t.rx.bodies[2]).toEqual(t.rx.bodies[0]);
  });

  it('gives each outcome its triple; pending never becomes final', async () => {
    const fates = { '1': 'undelivered', '2': 'expired', '3': 'rejected', '4': 'pending' } as const;
    t.emu.setOutcome((phone) => fates[phone.slice(-1) as keyof typeof fates] ?? 'delivered');
    const long = 'x'.repeat(161); // two GSM-7 parts
    for (const end of ['1', '2', '3', '4']) {
      await send(
        t.emu,
        { phone_number: `37529123456${end}`, extra_id: `o-${end}`, callback_url: t.rx.url },
        { text: long },
      );
    }
    await t.emu.deliverNow();
    await waitFor(() => t.rx.bodies.length === 3, 'three DLRs');
    const byExtra = Object.fromEntries(
      (t.rx.bodies as Record<string, unknown>[]).map((b) => [b.extra_id, b]),
    );
    expect(byExtra['o-1']).toMatchObject({
      status: 3,
      substatus: 36,
      msg_status: 36031,
      sent_via: 'sms',
      total_sms_parts: 2,
      delivered_sms_parts: 0,
    });
    expect(byExtra['o-2']).toMatchObject({ status: 3, msg_status: 35015, sent_via: 'sms' });
    expect(byExtra['o-3']).toMatchObject({ status: 3, msg_status: 36056, sent_via: 'hyber' });
    expect(byExtra['o-4']).toBeUndefined();
    const pending = await call(t.emu, 'GET', `/${t.emu.clientId}/dr/external/o-4/simple`);
    expect(pending.json).toMatchObject({ status: -1, extra_id: 'o-4', total_sms_parts: 2 });
  });

  it('drops DLRs when disabled, while the status query shows the final state', async () => {
    t.emu.setDlrEnabled(false);
    const r = await send(t.emu, { callback_url: t.rx.url });
    await t.emu.deliverNow();
    await new Promise((res) => setTimeout(res, 60));
    expect(t.rx.bodies).toEqual([]);
    expect(t.emu.callbacks).toEqual([]);
    const st = await call(t.emu, 'GET', `/${t.emu.clientId}/dr/${r.json.message_id}/simple`);
    expect(st.json).toEqual({
      phone_number: 375291234567,
      last_partner: 'sms',
      message_id: r.json.message_id,
      extra_id: 'e-1',
      time: expect.any(Number),
      status: 2,
      substatus: 23,
      msg_status: 23011,
      total_sms_parts: 1,
      delivered_sms_parts: 1,
    });
  });

  it('close() stops pending timers quickly', async () => {
    const e2 = await startMtsEmulator({ dlr: { delayMs: 60_000 } });
    await send(e2, { callback_url: t.rx.url });
    const started = Date.now();
    await e2.close();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('MTS emulator: HTTP contract', () => {
  let emu: MtsEmulator;
  beforeAll(async () => {
    emu = await startMtsEmulator({ rateLimit: 5, token: 'tok' });
  });
  afterEach(() => emu.reset());
  afterAll(() => emu.close());

  it('answers 10224 inside a 200 over the contracted rate and records every arrival', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call(emu, 'GET', `/${emu.clientId}/dr/unknown/simple`)),
    );
    const throttled = answers.filter((a) => a.json.error_code === 10224);
    expect(throttled).toHaveLength(5);
    expect(throttled.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.status === 404)).toHaveLength(5);
    expect(emu.requestTimes).toHaveLength(10);
    expect(emu.maxRequestsInWindow()).toBe(10);
    expect(emu.maxRequestsInWindow(1000, (r) => r.kind === 'send')).toBe(0);
  });

  it('answers 429 with Retry-After over the rate in 429 mode', async () => {
    emu.setMode({ overRate: '429', retryAfterSec: 3 });
    const answers = await Promise.all(Array.from({ length: 7 }, () => send(emu)));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited).toHaveLength(2);
    expect(limited[0]?.headers.get('retry-after')).toBe('3');
    expect(limited[0]?.json).toMatchObject({ error_code: 429 });
    expect(emu.sent).toHaveLength(5);
  });

  it('checks credentials (Basic, and Bearer when a token is set): 401 with 1130', async () => {
    expect((await send(emu)).status).toBe(200);
    const wrong = await call(
      emu,
      'POST',
      `/${emu.clientId}/json2/simple`,
      sendBody(),
      'Basic eDp5',
    );
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error_code: 1130, error_text: 'Incorrect password' });
    const bearer = await call(
      emu,
      'POST',
      `/${emu.clientId}/json2/simple`,
      sendBody(),
      'Bearer tok',
    );
    expect(bearer.status).toBe(200);
    expect(emu.sent.map((s) => s.auth)).toEqual(['basic', 'bearer']);
  });

  it('answers 404 for another client id', async () => {
    const r = await call(emu, 'POST', '/9999/json2/simple', sendBody());
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ error_code: 404 });
  });

  it('never deduplicates by extra_id', async () => {
    await send(emu, { extra_id: 'dup' });
    await send(emu, { extra_id: 'dup' });
    expect(emu.countByExtraId('dup')).toBe(2);
    expect(emu.sent[0]?.messageId).not.toBe(emu.sent[1]?.messageId);
  });

  const refusals: [string, Record<string, unknown>, Record<string, unknown>, number][] = [
    ['a short phone', { phone_number: 37529123456 }, {}, 10243],
    ['a foreign phone', { phone_number: '79161234567' }, {}, 10243],
    ['a missing phone', { phone_number: undefined }, {}, 10243],
    ['a 12-character alpha name', {}, { alpha_name: 'ABCDEFGHIJKL' }, 10262],
    ['a Cyrillic alpha name', {}, { alpha_name: 'МАГАЗИН' }, 10262],
    ['a ttl under 300', {}, { ttl: 299 }, 10259],
    ['a ttl over 259200', {}, { ttl: 259_201 }, 10259],
    ['2296 GSM-7 characters (16 parts)', {}, { text: 'a'.repeat(2296) }, 10260],
    ['1006 Cyrillic characters (16 parts)', {}, { text: 'я'.repeat(1006) }, 10260],
    ['an empty text', {}, { text: '' }, 10261],
    ['a blank text', {}, { text: ' \n ' }, 10261],
    ['a missing text', {}, { text: undefined }, 10261],
    ['a 65-character extra_id', { extra_id: 'x'.repeat(65) }, {}, 10246],
    ['a 257-character callback_url', { callback_url: `http://x/${'a'.repeat(248)}` }, {}, 10218],
    ['a start_time in the past', { start_time: '2020-01-01 10:00:00+03:00' }, {}, 10244],
    ['a start_time 2 days ahead', { start_time: minsk(Date.now() + 48 * 3600_000) }, {}, 10245],
    ['a start_time of another format', { start_time: '2030-01-01T10:00:00Z' }, {}, 10218],
    ['no channels', { channels: [] }, {}, 10247],
    ['a missing channels field', { channels: undefined }, {}, 10247],
    ['a channel other than sms', { channels: ['viber'] }, {}, 10248],
    ['a missing alpha_name', {}, { alpha_name: undefined }, 10217],
    ['a ttl given as text', {}, { ttl: '300' }, 10219],
  ];
  it.each(refusals)('refuses %s with its MTS code inside a 200', async (_name, over, sms, code) => {
    const r = await send(emu, over, sms);
    expect(r.status).toBe(200);
    expect(r.json.error_code).toBe(code);
    expect(r.json.error_text).toEqual(expect.any(String));
    expect(r.json).not.toHaveProperty('message_id');
    expect(emu.sent).toHaveLength(0);
  });

  it('answers MTS codes with another HTTP status when errorHttpStatus says so', async () => {
    emu.setMode({ errorHttpStatus: 400 });
    const r = await send(emu, { phone_number: 12 });
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe(10243);
  });

  it('accepts the limits themselves: 15 parts, 64-character extra_id, start_time ahead', async () => {
    expect((await send(emu, {}, { text: 'a'.repeat(2295), ttl: 259_200 })).json).toHaveProperty(
      'message_id',
    );
    expect((await send(emu, {}, { text: 'я'.repeat(1005), ttl: 300 })).json).toHaveProperty(
      'message_id',
    );
    expect(
      (await send(emu, { phone_number: '375291234567', extra_id: 'x'.repeat(64) })).json,
    ).toHaveProperty('message_id');
    const later = await send(emu, { start_time: minsk(Date.now() + 23 * 3600_000) });
    expect(later.json).toHaveProperty('message_id');
    expect(emu.sent.map((s) => s.text.length)).toEqual([2295, 1005, 2, 2]);
  });

  it('answers injected failures once each', async () => {
    emu.failNext(2, 503);
    expect((await send(emu)).status).toBe(503);
    expect((await send(emu)).status).toBe(503);
    expect((await send(emu)).status).toBe(200);
    expect(emu.sent).toHaveLength(1);
  });

  it('takes a batch and judges each message alone', async () => {
    const r = await call(emu, 'POST', `/${emu.clientId}/json2/batch/sync`, {
      messages: [
        { phone_number: 375291234567, extra_id: 'b-1', text: 'one' },
        { phone_number: 12, extra_id: 'b-2', text: 'two' },
      ],
      channels: ['sms'],
      channel_options: { sms: { alpha_name: 'SANDBOX', ttl: 600 } },
    });
    expect(r.status).toBe(200);
    expect(r.json.messages).toEqual([
      {
        processed: true,
        phone_number: 375291234567,
        extra_id: 'b-1',
        message_id: expect.any(String),
        accepted: true,
      },
      {
        processed: false,
        phone_number: 12,
        extra_id: 'b-2',
        accepted: false,
        error_code: 10243,
        error_text: 'Phone number incorrect',
      },
    ]);
    expect(emu.sent.map((s) => [s.extraId, s.text, s.ttl])).toEqual([['b-1', 'one', 600]]);
  });
});

describe('MTS emulator: alpha names', () => {
  it('allows any alpha name by default; a registered list refuses others with 10262', async () => {
    const any = await startMtsEmulator();
    const listed = await startMtsEmulator({ alphaNames: ['SHOP'] });
    try {
      expect((await send(any, {}, { alpha_name: 'WHATEVER' })).json).toHaveProperty('message_id');
      const refused = await send(listed, {}, { alpha_name: 'OTHER' });
      expect(refused.json).toMatchObject({ error_code: 10262 });
      expect(refused.json.error_text).toContain('"OTHER" is not registered');
      expect((await send(listed, {}, { alpha_name: 'SHOP' })).json).toHaveProperty('message_id');
    } finally {
      await Promise.all([any.close(), listed.close()]);
    }
  });

  it('holds named alpha names, or all with the alpha fault, until restored', async () => {
    const emu = await startMtsEmulator({ mode: { heldAlphaNames: ['PROMO'] } });
    try {
      expect((await send(emu, {}, { alpha_name: 'PROMO' })).json).toMatchObject({
        error_code: 10262,
      });
      expect((await send(emu, {}, { alpha_name: 'SHOP' })).json).toHaveProperty('message_id');
      emu.setFault('alpha');
      expect((await send(emu, {}, { alpha_name: 'SHOP' })).json).toMatchObject({
        error_code: 10262,
      });
      emu.setFault('none');
      expect(emu.mode.heldAlphaNames).toEqual(['PROMO']);
      expect((await send(emu, {}, { alpha_name: 'SHOP' })).json).toHaveProperty('message_id');
    } finally {
      await emu.close();
    }
  });
});

describe('MTS emulator: status lookups', () => {
  let emu: MtsEmulator;
  beforeAll(async () => {
    emu = await startMtsEmulator({ dlr: { delayMs: 60_000 } });
  });
  afterEach(() => emu.reset());
  afterAll(() => emu.close());

  it('answers by message_id and by extra_id with msg_status, -1 until final', async () => {
    const r = await send(emu, { extra_id: 'look-1' });
    const id = r.json.message_id as string;
    const pending = await call(emu, 'GET', `/${emu.clientId}/dr/${id}/simple`);
    expect(pending.status).toBe(200);
    expect(pending.json).toEqual({
      phone_number: 375291234567,
      last_partner: 'sms',
      message_id: id,
      extra_id: 'look-1',
      time: expect.any(Number),
      status: -1,
      substatus: 0,
      msg_status: 0,
      total_sms_parts: 1,
      delivered_sms_parts: 0,
    });
    await emu.deliverNow();
    const byExtra = await call(emu, 'GET', `/${emu.clientId}/dr/external/look-1/simple`);
    expect(byExtra.json).toMatchObject({ message_id: id, status: 2, msg_status: 23011 });
  });

  it('answers 404 "not found" for an id it does not know', async () => {
    for (const path of ['/dr/nope/simple', '/dr/external/nope/simple']) {
      const r = await call(emu, 'GET', `/${emu.clientId}${path}`);
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({
        error_code: 404,
        error_text: expect.stringMatching(/not found/),
      });
    }
  });

  it('keeps a just-accepted message invisible to lookups for lookupDelayMs', async () => {
    emu.setMode({ lookupDelayMs: 300 });
    const r = await send(emu, { extra_id: 'late-1' });
    const id = r.json.message_id as string;
    expect((await call(emu, 'GET', `/${emu.clientId}/dr/${id}/simple`)).status).toBe(404);
    expect((await call(emu, 'GET', `/${emu.clientId}/dr/external/late-1/simple`)).status).toBe(404);
    await new Promise((res) => setTimeout(res, 320));
    expect((await call(emu, 'GET', `/${emu.clientId}/dr/${id}/simple`)).status).toBe(200);
    expect(
      (await call(emu, 'GET', `/${emu.clientId}/dr/external/late-1/simple`)).json.message_id,
    ).toBe(id);
  });

  it('an older visible send with the extra_id answers while the newest is not visible yet', async () => {
    const first = await send(emu, { extra_id: 'twice' });
    await new Promise((res) => setTimeout(res, 120));
    emu.setMode({ lookupDelayMs: 100 });
    await send(emu, { extra_id: 'twice' });
    const r = await call(emu, 'GET', `/${emu.clientId}/dr/external/twice/simple`);
    expect(r.json.message_id).toBe(first.json.message_id);
  });

  it('speaks hyber_status when told to (older MTS documents)', async () => {
    const old = await startMtsEmulator({ statusField: 'hyber_status', dlr: { delayMs: 0 } });
    try {
      const r = await send(old);
      await old.deliverNow();
      const st = await call(old, 'GET', `/${old.clientId}/dr/${r.json.message_id}/simple`);
      expect(st.json).toMatchObject({ status: 2, hyber_status: 23011 });
      expect(st.json).not.toHaveProperty('msg_status');
    } finally {
      await old.close();
    }
  });
});

describe('MTS emulator: failure switches', () => {
  const t = emulatorWithReceiver({ dlr: { delayMs: 20 } });

  it.each([
    ['balance', 10229],
    ['inactive', 10222],
  ] as const)('%s: every send gets %i inside a 200; lookups still answer', async (fault, code) => {
    const before = await send(t.emu, { extra_id: 'before' });
    t.emu.setFault(fault);
    const r = await send(t.emu);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ error_code: code });
    expect(t.emu.sent).toHaveLength(1);
    const st = await call(t.emu, 'GET', `/${t.emu.clientId}/dr/${before.json.message_id}/simple`);
    expect(st.status).toBe(200);
  });

  it('password: every request gets 401 with 1130, right credentials or not', async () => {
    t.emu.setFault('password');
    const r = await send(t.emu);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ error_code: 1130 });
    expect((await call(t.emu, 'GET', `/${t.emu.clientId}/dr/x/simple`)).status).toBe(401);
    t.emu.setFault('none');
    expect((await send(t.emu)).status).toBe(200);
  });

  it('throttle: over the contracted rate, 10224 inside a 200; a client that waits gets through', async () => {
    t.emu.setMode({ rate: 2 });
    t.emu.setFault('throttle');
    const answers = await Promise.all([send(t.emu), send(t.emu), send(t.emu)]);
    expect(answers.map((a) => a.json.error_code ?? 'ok').sort()).toEqual([10224, 'ok', 'ok']);
    await new Promise((res) => setTimeout(res, 1050));
    expect((await send(t.emu)).json).toHaveProperty('message_id');
  });

  it('429: over the rate (1/s unless set), HTTP 429 with Retry-After', async () => {
    t.emu.setFault('429');
    expect(t.emu.mode).toMatchObject({ rate: 1, overRate: '429' });
    await send(t.emu);
    const r = await send(t.emu);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('5xx: every API request gets 503 and nothing is accepted', async () => {
    t.emu.setFault('5xx');
    expect((await send(t.emu)).status).toBe(503);
    expect((await call(t.emu, 'GET', `/${t.emu.clientId}/dr/x/simple`)).status).toBe(503);
    expect(t.emu.sent).toHaveLength(0);
  });

  it('timeout: requests hang unanswered and unacted upon until the switch is off, then get 504', async () => {
    t.emu.setFault('timeout');
    const hung = send(t.emu);
    const abandoned = fetch(`${t.emu.url}/${t.emu.clientId}/json2/simple`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify(sendBody()),
      signal: AbortSignal.timeout(100),
    });
    await expect(abandoned).rejects.toThrow();
    await waitFor(() => t.emu.requests.length === 2, 'both requests to arrive');
    expect(t.emu.sent).toHaveLength(0);
    t.emu.setMode({ hang: false });
    const r = await hung;
    expect(r.status).toBe(504);
    expect(t.emu.sent).toHaveLength(0);
    expect((await send(t.emu)).status).toBe(200);
  });

  it('dlr-loss: no DLR is posted, the lookup still shows the final state', async () => {
    t.emu.setFault('dlr-loss');
    const r = await send(t.emu, { callback_url: t.rx.url });
    await t.emu.deliverNow();
    await new Promise((res) => setTimeout(res, 60));
    expect(t.rx.bodies).toEqual([]);
    const st = await call(t.emu, 'GET', `/${t.emu.clientId}/dr/${r.json.message_id}/simple`);
    expect(st.json).toMatchObject({ status: 2 });
  });

  it('faults add up; none restores the initial mode', async () => {
    t.emu.setFault('balance');
    t.emu.setFault('dlr-loss');
    expect(t.emu.mode).toMatchObject({ account: 'balance', dlr: false });
    expect(t.emu.setFault('none')).toMatchObject({ account: 'ok', dlr: true, rate: null });
  });
});

describe('MTS emulator: HTTP control endpoint', () => {
  const t = emulatorWithReceiver({ dlr: { delayMs: 10 } });

  const control = async (body?: unknown) => {
    const res = await fetch(`${t.emu.url}/_emulator/mode`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('switches a fault on and off without credentials, outside the request log', async () => {
    const on = await control({ fault: 'balance' });
    expect(on).toMatchObject({ status: 200, json: { mode: { account: 'balance' } } });
    expect((await send(t.emu)).json).toMatchObject({ error_code: 10229 });
    expect((await control()).json).toMatchObject({ mode: { account: 'balance' } });
    await control({ fault: 'none' });
    expect((await send(t.emu)).json).toHaveProperty('message_id');
    expect(t.emu.requests.map((r) => r.kind)).toEqual(['send', 'send']);
  });

  it('sets fields and the outcome of later messages', async () => {
    const r = await control({ heldAlphaNames: ['PROMO'], lookupDelayMs: 50, outcome: 'expired' });
    expect(r.json.mode).toMatchObject({ heldAlphaNames: ['PROMO'], lookupDelayMs: 50 });
    expect((await send(t.emu, {}, { alpha_name: 'PROMO' })).json).toMatchObject({
      error_code: 10262,
    });
    await send(t.emu, { callback_url: t.rx.url });
    await waitFor(() => t.rx.bodies.length === 1, 'the DLR');
    expect(t.rx.bodies[0]).toMatchObject({ status: 3, msg_status: 35015 });
  });

  it('refuses an unknown fault or field with 400 naming it', async () => {
    const bad = await control({ fault: 'meteor' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^fault: /);
    const extra = await control({ acount: 'balance' });
    expect(extra.status).toBe(400);
    expect(extra.json.error).toMatch(/acount/);
    expect(t.emu.mode.account).toBe('ok');
  });
});

/** `YYYY-MM-DD hh:mm:ss+03:00` (MTS's start_time format) for an epoch-ms instant. */
function minsk(at: number): string {
  const iso = new Date(at + 3 * 3600_000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+03:00`;
}

describe('EmulatorState.maxRequestsInWindow', () => {
  it('finds the busiest window', () => {
    const s = new EmulatorState({ mode: { ...DEFAULT_MODE }, outcome: () => 'delivered' });
    for (const at of [0, 100, 900, 999, 1000, 1500, 1999, 2500]) {
      s.recordRequest({ at, method: 'GET', url: '/', kind: at < 1000 ? 'send' : 'status' });
    }
    expect(s.maxRequestsInWindow()).toBe(4); // e.g. 0, 100, 900, 999
    expect(s.maxRequestsInWindow(1000, (r) => r.kind === 'status')).toBe(3); // 1000..1999
    expect(s.maxRequestsInWindow(2)).toBe(2); // 999 and 1000
  });
});
