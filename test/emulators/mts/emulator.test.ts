import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MtsEmulator, startMtsEmulator } from '../../../src/emulators/mts/index.js';
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

describe('MTS emulator: DLR callbacks', () => {
  let emu: MtsEmulator;
  let rx: DlrReceiver;
  beforeAll(async () => {
    rx = await startDlrReceiver();
    emu = await startMtsEmulator({ dlr: { delayMs: 30 }, dlrRetry: { baseMs: 40 } });
  });
  afterEach(() => {
    emu.reset();
    rx.bodies.length = 0;
    rx.script.length = 0;
  });
  afterAll(async () => {
    await emu.close();
    await rx.close();
  });

  it('POSTs a delivered DLR to callback_url', async () => {
    const r = await send(emu, { callback_url: rx.url });
    expect(r.status).toBe(200);
    await waitFor(() => rx.bodies.length === 1, 'the DLR');
    expect(rx.bodies[0]).toEqual({
      number: 375291234567,
      time: expect.any(Number),
      status: 2,
      substatus: 23,
      hyber_status: 23011,
      message_id: r.json.message_id,
      extra_id: 'e-1',
      sent_via: 'sms',
      total_sms_parts: 1,
      delivered_sms_parts: 1,
    });
  });

  it('retries a callback answered 500, with backoff', async () => {
    rx.script.push(500, 503);
    await send(emu, { callback_url: rx.url });
    await waitFor(() => emu.callbacks.length === 3, 'the third DLR attempt');
    expect(emu.callbacks.map((c) => [c.attempt, c.status])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    const [a, b, c] = emu.callbacks;
    // 40 ms then 80 ms: exponential from baseMs.
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(35);
    expect((c?.at ?? 0) - (b?.at ?? 0)).toBeGreaterThanOrEqual(75);
    expect(rx.bodies[2]).toEqual(rx.bodies[0]);
  });

  it('gives each outcome its triple; pending never becomes final', async () => {
    const fates = { '1': 'undelivered', '2': 'expired', '3': 'rejected', '4': 'pending' } as const;
    emu.setOutcome((phone) => fates[phone.slice(-1) as keyof typeof fates] ?? 'delivered');
    const long = 'x'.repeat(161); // two GSM-7 parts
    for (const end of ['1', '2', '3', '4']) {
      await send(
        emu,
        { phone_number: `37529123456${end}`, extra_id: `o-${end}`, callback_url: rx.url },
        { text: long },
      );
    }
    await emu.deliverNow();
    await waitFor(() => rx.bodies.length === 3, 'three DLRs');
    const byExtra = Object.fromEntries(
      (rx.bodies as Record<string, unknown>[]).map((b) => [b.extra_id, b]),
    );
    expect(byExtra['o-1']).toMatchObject({
      status: 3,
      sent_via: 'sms',
      total_sms_parts: 2,
      delivered_sms_parts: 0,
    });
    expect(byExtra['o-1']?.hyber_status).not.toBe(35015);
    expect(byExtra['o-2']).toMatchObject({ status: 3, hyber_status: 35015, sent_via: 'sms' });
    expect(byExtra['o-3']).toMatchObject({ sent_via: 'hyber' });
    expect(byExtra['o-4']).toBeUndefined();
    const pending = await call(emu, 'GET', `/${emu.clientId}/dr/external/o-4/simple`);
    expect(pending.json).toMatchObject({ status: -1, extra_id: 'o-4', total_sms_parts: 2 });
  });

  it('drops DLRs when disabled, while the status query shows the final state', async () => {
    emu.setDlrEnabled(false);
    const r = await send(emu, { callback_url: rx.url });
    await emu.deliverNow();
    await new Promise((res) => setTimeout(res, 60));
    expect(rx.bodies).toEqual([]);
    expect(emu.callbacks).toEqual([]);
    const st = await call(emu, 'GET', `/${emu.clientId}/dr/${r.json.message_id}/simple`);
    expect(st.json).toEqual({
      phone_number: 375291234567,
      message_id: r.json.message_id,
      extra_id: 'e-1',
      time: expect.any(Number),
      status: 2,
      substatus: 23,
      hyber_status: 23011,
      total_sms_parts: 1,
      delivered_sms_parts: 1,
    });
  });

  it('close() stops pending timers quickly', async () => {
    const e2 = await startMtsEmulator({ dlr: { delayMs: 60_000 } });
    await send(e2, { callback_url: rx.url });
    const t = Date.now();
    await e2.close();
    expect(Date.now() - t).toBeLessThan(500);
  });
});

describe('MTS emulator: HTTP contract', () => {
  let emu: MtsEmulator;
  beforeAll(async () => {
    emu = await startMtsEmulator({ rateLimit: 5, token: 'tok' });
  });
  afterEach(() => emu.reset());
  afterAll(() => emu.close());

  it('answers 429 with Retry-After over the rate limit and records every arrival', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call(emu, 'GET', `/${emu.clientId}/dr/unknown/simple`)),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(statuses.filter((s) => s === 404)).toHaveLength(5);
    const limited = answers.find((a) => a.status === 429);
    expect(limited?.headers.get('retry-after')).toBe('1');
    expect(limited?.json).toMatchObject({ error_code: 429 });
    expect(emu.requestTimes).toHaveLength(10);
    expect(emu.maxRequestsInWindow()).toBe(10);
    expect(emu.maxRequestsInWindow(1000, (r) => r.kind === 'send')).toBe(0);
  });

  it('checks credentials (Basic, and Bearer when a token is set)', async () => {
    expect((await send(emu)).status).toBe(200);
    const wrong = await call(
      emu,
      'POST',
      `/${emu.clientId}/json2/simple`,
      sendBody(),
      'Basic eDp5',
    );
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error_code: 401 });
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

  it.each([
    ['a short phone', { phone_number: 37529123456 }, {}, 36024],
    ['a foreign phone', { phone_number: '79161234567' }, {}, 36024],
    ['a missing phone', { phone_number: undefined }, {}, 36024],
    ['an unknown alpha name', {}, { alpha_name: 'OTHER' }, 36016],
    ['a 12-character alpha name', {}, { alpha_name: 'ABCDEFGHIJKL' }, 36000],
    ['a ttl under 300', {}, { ttl: 299 }, 36018],
    ['a ttl over 259200', {}, { ttl: 259_201 }, 36018],
    ['766 GSM-7 characters', {}, { text: 'a'.repeat(766) }, 36019],
    ['336 Cyrillic characters', {}, { text: 'я'.repeat(336) }, 36019],
    ['a 65-character extra_id', { extra_id: 'x'.repeat(65) }, {}, 36000],
    ['a 257-character callback_url', { callback_url: `http://x/${'a'.repeat(248)}` }, {}, 36000],
    ['no sms channel', { channels: ['viber'] }, {}, 36000],
  ])('refuses %s with 400', async (_name, over, sms, code) => {
    const r = await send(emu, over, sms);
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe(code);
    expect(emu.sent).toHaveLength(0);
  });

  it('accepts the limits themselves', async () => {
    expect((await send(emu, {}, { text: 'a'.repeat(765), ttl: 259_200 })).status).toBe(200);
    expect((await send(emu, {}, { text: 'я'.repeat(335), ttl: 300 })).status).toBe(200);
    expect(
      (await send(emu, { phone_number: '375291234567', extra_id: 'x'.repeat(64) })).status,
    ).toBe(200);
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
        error_code: 36024,
        error_text: 'Phone number incorrect',
      },
    ]);
    expect(emu.sent.map((s) => [s.extraId, s.text, s.ttl])).toEqual([['b-1', 'one', 600]]);
  });
});

describe('EmulatorState.maxRequestsInWindow', () => {
  it('finds the busiest window', () => {
    const s = new EmulatorState({ latencyMs: 0, dlrEnabled: true, outcome: () => 'delivered' });
    for (const at of [0, 100, 900, 999, 1000, 1500, 1999, 2500]) {
      s.recordRequest({ at, method: 'GET', url: '/', kind: at < 1000 ? 'send' : 'status' });
    }
    expect(s.maxRequestsInWindow()).toBe(4); // e.g. 0, 100, 900, 999
    expect(s.maxRequestsInWindow(1000, (r) => r.kind === 'status')).toBe(3); // 1000..1999
    expect(s.maxRequestsInWindow(2)).toBe(2); // 999 and 1000
  });
});
