import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Bitrix24Client, createBitrix24Client } from '../../src/bitrix24/client.js';
import { Bitrix24Error, Bitrix24RestUnavailableError } from '../../src/bitrix24/errors.js';
import { FakeClock } from '../../src/clock.js';
import {
  type Bitrix24Emulator,
  startBitrix24Emulator,
} from '../../src/emulators/bitrix24/index.js';
import { createLogger } from '../../src/log.js';
import { waitFor } from '../helpers/wait.js';
import { MemoryTokenStore } from './memoryTokenStore.js';

/** Lets pending promise callbacks and loopback I/O run (the fake clock does not move). */
const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

/** Bitrix24's own limits besides the leaky bucket (limits.md, system errors), on a fake clock. */
describe('Bitrix24 limits: OPERATION_TIME_LIMIT and a plan without REST', () => {
  let clock: FakeClock;
  let emu: Bitrix24Emulator;
  let client: Bitrix24Client;
  let portalId: string;
  let logLines: Record<string, unknown>[];

  beforeEach(async () => {
    clock = new FakeClock();
    emu = await startBitrix24Emulator({ clock, accessTokenTtlSec: 24 * 3600 });
    const store = new MemoryTokenStore();
    const conn = emu.connection();
    portalId = conn.portalId;
    store.put(conn);
    logLines = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean))
          logLines.push(JSON.parse(line));
        done();
      },
    });
    client = createBitrix24Client({
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      oauthServers: [emu.url],
      tokens: store,
      clock,
      logger: createLogger('info', sink),
      maxLimitWaitMs: 60_000,
    });
  });
  afterEach(() => emu.close());

  const hits = (method: string) => emu.restRequests.byMethod[method] ?? 0;

  it('a method blocked for a short while waits until operating_reset_at, then retries once', async () => {
    emu.setMethodBlocked('app.info', true, clock.now() + 20_000);
    let done = false;
    const a = client.call<{ CODE: string }>(portalId, 'app.info').then((r) => {
      done = true;
      return r;
    });
    // The first call got its 429 and waits.
    await waitFor(
      () => logLines.some((l) => /waiting for operating_reset_at/.test(String(l.msg))),
      'the wait',
    );
    expect(hits('app.info')).toBe(1);
    // A second call meanwhile does not ask the portal either.
    const b = client.call<{ CODE: string }>(portalId, 'app.info');
    // Other methods go on.
    expect(await client.call(portalId, 'profile')).toMatchObject({ ID: '1' });
    clock.advance(15_000);
    await settle();
    expect(done).toBe(false);
    expect(hits('app.info')).toBe(1);
    clock.advance(7_000); // past operating_reset_at (+1 s margin)
    expect((await a).CODE).toBe(emu.clientId);
    expect((await b).CODE).toBe(emu.clientId);
    expect(hits('app.info')).toBe(3);
  });

  it('a long block fails the call at once, retryable after the reset, without asking again', async () => {
    const until = clock.now() + 9 * 60_000;
    emu.setMethodBlocked('crm.contact.list', true, until);
    const err = await client.call(portalId, 'crm.contact.list').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Bitrix24Error);
    expect(err).toMatchObject({ action: 'retry', code: 'B24_OPERATION_TIME_LIMIT' });
    expect((err as Bitrix24Error).retryAfterMs).toBe(until + 1000 - clock.now());
    expect((err as Error).message).toMatch(/blocked crm\.contact\.list .* until/);
    await expect(client.call(portalId, 'crm.contact.list')).rejects.toMatchObject({
      code: 'B24_OPERATION_TIME_LIMIT',
    });
    expect(hits('crm.contact.list')).toBe(1);
    clock.advance(9 * 60_000 + 1_000);
    expect(await client.call(portalId, 'crm.contact.list')).toEqual([]);
    expect(hits('crm.contact.list')).toBe(2);
  });

  it('closing the client ends a wait with a retryable error', async () => {
    emu.setMethodBlocked('app.info', true, clock.now() + 30_000);
    const p = client.call(portalId, 'app.info').catch((e: unknown) => e);
    await settle();
    client.close();
    expect(await p).toMatchObject({ action: 'retry', code: 'B24_OPERATION_TIME_LIMIT' });
  });

  it('ACCESS_DENIED on a plan without REST: a typed error that says so, logged once, listed until it works again', async () => {
    emu.setRestUnavailable(true);
    for (let i = 0; i < 3; i++) {
      const err = await client.call(portalId, 'app.info').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Bitrix24RestUnavailableError);
      expect(err).toMatchObject({ action: 'pause', code: 'B24_REST_UNAVAILABLE', httpStatus: 401 });
      expect((err as Error).message).toMatch(
        /plan does not include the REST API.*b24-mts-sms register/,
      );
    }
    // One attempt per call: no retries, no token refresh.
    expect(hits('app.info')).toBe(3);
    expect(emu.oauthRequests).toBe(0);
    expect(logLines.filter((l) => l.level === 50)).toHaveLength(1);
    expect(client.accessProblems()).toEqual([
      {
        portalId,
        domain: emu.domain,
        problem: 'rest_unavailable',
        message: expect.stringMatching(/ACCESS_DENIED: REST is available only on commercial plans/),
        since: clock.now(),
      },
    ]);
    emu.setRestUnavailable(false);
    await client.call(portalId, 'app.info');
    expect(client.accessProblems()).toEqual([]);
  });
});
