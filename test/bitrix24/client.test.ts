import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Bitrix24Client, createBitrix24Client } from '../../src/bitrix24/client.js';
import { Bitrix24Error } from '../../src/bitrix24/errors.js';
import { fetchAll } from '../../src/bitrix24/list.js';
import type { BatchCommand } from '../../src/bitrix24/types.js';
import {
  type Bitrix24Emulator,
  startBitrix24Emulator,
} from '../../src/emulators/bitrix24/index.js';
import { MemoryTokenStore } from './memoryTokenStore.js';

let emu: Bitrix24Emulator;
let store: MemoryTokenStore;
let client: Bitrix24Client;
let portalId: string;

function makeClient(
  overrides: Partial<Parameters<typeof createBitrix24Client>[0]> = {},
): Bitrix24Client {
  return createBitrix24Client({
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    oauthServers: [emu.url],
    tokens: store,
    rate: 100,
    burst: 50,
    backoff: { baseMs: 5, maxMs: 50 },
    timeoutMs: 5_000,
    ...overrides,
  });
}

beforeEach(async () => {
  emu = await startBitrix24Emulator();
  store = new MemoryTokenStore();
  const conn = emu.connection();
  portalId = conn.portalId;
  store.put(conn);
  client = makeClient();
});

afterEach(async () => {
  await emu.close();
});

describe('Bitrix24 client', () => {
  it('calls a method with the access token and returns its result', async () => {
    const id = await client.call<number>(portalId, 'crm.contact.add', {
      fields: { NAME: 'Ivan', PHONE: [{ VALUE: '+375291234567', VALUE_TYPE: 'MOBILE' }] },
    });
    const contact = await client.call<Record<string, unknown>>(portalId, 'crm.contact.get', { id });
    expect(contact.NAME).toBe('Ivan');
    expect(contact.PHONE).toEqual([
      { ID: expect.any(String), VALUE: '+375291234567', VALUE_TYPE: 'MOBILE', TYPE_ID: 'PHONE' },
    ]);
    expect(client.restRequests(portalId)).toBe(2);
  });

  it('throws a permanent Bitrix24Error carrying the code and description', async () => {
    await client.call(portalId, 'messageservice.sender.add', {
      CODE: 'mts_sms_by',
      TYPE: 'SMS',
      HANDLER: 'http://127.0.0.1:1/b24/sms/x',
      NAME: 'MTS',
    });
    const err = await client
      .call(portalId, 'messageservice.sender.add', {
        CODE: 'mts_sms_by',
        TYPE: 'SMS',
        HANDLER: 'http://127.0.0.1:1/b24/sms/x',
        NAME: 'MTS',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Bitrix24Error);
    const e = err as Bitrix24Error;
    expect(e.action).toBe('permanent');
    expect(e.b24Error).toBe('ERROR_SENDER_ALREADY_INSTALLED');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toContain('ERROR_SENDER_ALREADY_INSTALLED');
    expect(e.message).toContain('Sender already installed!');
  });

  it('runs a batch of 50 commands in one request and reports a per-command error', async () => {
    const commands: Record<string, BatchCommand> = {};
    for (let i = 0; i < 49; i++) {
      commands[`c${i}`] = {
        method: 'crm.contact.add',
        params: {
          fields: {
            NAME: `N${i}`,
            PHONE: [{ VALUE: `+37529${String(1000000 + i)}`, VALUE_TYPE: 'WORK' }],
          },
        },
      };
    }
    commands.bad = { method: 'crm.contact.get', params: { id: 999_999 } };
    const before = emu.restRequests.total;
    const results = await client.batch(portalId, commands);
    expect(emu.restRequests.total - before).toBe(1);
    expect(client.restRequests(portalId)).toBe(1);
    expect(Object.keys(results)).toHaveLength(50);
    expect(results.c0).toEqual({ ok: true, result: 1 });
    expect(results.c48).toEqual({ ok: true, result: 49 });
    expect(results.bad).toMatchObject({ ok: false, description: 'Not found' });
    const c7 = await client.call<Record<string, unknown>>(portalId, 'crm.contact.get', { id: 8 });
    expect((c7.PHONE as { VALUE: string }[])[0]?.VALUE).toBe('+375291000007');
  });

  it('refuses more than 50 commands without calling the portal', async () => {
    const commands: Record<string, BatchCommand> = {};
    for (let i = 0; i < 51; i++) commands[`k${i}`] = { method: 'app.info' };
    await expect(client.batch(portalId, commands)).rejects.toMatchObject({ action: 'permanent' });
    expect(client.restRequests(portalId)).toBe(0);
  });

  it('refreshes an expired token, persists the new pair and retries', async () => {
    const old = store.get(portalId);
    emu.expireAllTokens();
    const info = await client.call<{ CODE: string }>(portalId, 'app.info');
    expect(info.CODE).toBe(emu.clientId);
    expect(emu.oauthRequests).toBe(1);
    expect(store.saves).toHaveLength(1);
    const now = store.get(portalId);
    expect(now?.accessToken).not.toBe(old?.accessToken);
    expect(now?.refreshToken).not.toBe(old?.refreshToken);
    // The portal's own address survives: the refresh answer's domain is the OAuth server's.
    expect(now?.domain).toBe(emu.domain);
    expect(now?.clientEndpoint).toBe(emu.restBase);
    expect(emu.restRequests.byMethod['app.info']).toBe(2);
  });

  it('refreshes only at a trusted OAuth server, never at a stored address off B24_OAUTH_URL', async () => {
    // A row stored with a server of someone else's (an old install, a changed B24_OAUTH_URL).
    const conn = store.get(portalId);
    store.put({
      ...(conn as NonNullable<typeof conn>),
      serverEndpoint: 'http://127.0.0.1:9/rest/',
    });
    emu.expireAllTokens();
    const info = await client.call<{ CODE: string }>(portalId, 'app.info');
    expect(info.CODE).toBe(emu.clientId);
    // Refreshed at the first trusted server (the emulator), not at port 9.
    expect(emu.oauthRequests).toBe(1);
  });

  it('refreshes once for ten concurrent calls that all hit an expired token', async () => {
    emu.expireAllTokens();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => client.call<{ CODE: string }>(portalId, 'app.info')),
    );
    expect(results.every((r) => r.CODE === emu.clientId)).toBe(true);
    expect(emu.oauthRequests).toBe(1);
    expect(store.saves).toHaveLength(1);
  });

  it('adopts a pair another instance saved when its own refresh token was spent', async () => {
    const other = makeClient();
    await client.call(portalId, 'app.info'); // caches the current pair in `client`
    emu.expireAllTokens();
    await other.refresh(portalId); // spends the refresh token `client` still holds
    emu.expireAllTokens();
    await other.refresh(portalId);
    const info = await client.call<{ CODE: string }>(portalId, 'app.info');
    expect(info.CODE).toBe(emu.clientId);
  });

  it('after invalid_grant reloads the store and retries with the pair another instance saved', async () => {
    const stale = store.get(portalId);
    await client.call(portalId, 'app.info');
    emu.expireAllTokens();
    await makeClient().refresh(portalId); // another instance spends the refresh token we hold
    // Our first read of the store races that instance's commit and still sees the old pair.
    const realLoad = store.loadConnection.bind(store);
    let reads = 0;
    store.loadConnection = async (id) => (reads++ === 0 ? stale : realLoad(id));
    const info = await client.call<{ CODE: string }>(portalId, 'app.info');
    expect(info.CODE).toBe(emu.clientId);
    expect(emu.oauthRequests).toBe(2); // theirs, and our refused one
    expect(store.saves).toHaveLength(1); // only theirs
  });

  it('pauses when the refresh token is rejected and nothing newer is stored', async () => {
    emu.expireAllTokens();
    emu.revokeRefreshTokens();
    const err = (await client.call(portalId, 'app.info').catch((e: unknown) => e)) as Bitrix24Error;
    expect(err).toBeInstanceOf(Bitrix24Error);
    expect(err.action).toBe('pause');
    expect(err.b24Error).toBe('invalid_grant');
  });

  it('retries QUERY_LIMIT_EXCEEDED from a tight portal bucket until every call succeeds', async () => {
    emu.setBucket(20, 3);
    // The client's own limit matches the portal's rate; after a 503 it paces at that rate.
    const c = makeClient({ rate: 20, burst: 50, backoff: { baseMs: 20, maxMs: 200 } });
    const results = await Promise.all(
      Array.from({ length: 12 }, () => c.call(portalId, 'app.info')),
    );
    expect(results).toHaveLength(12);
    expect(c.restRequests(portalId)).toBeGreaterThan(12);
  });

  it('gives up after maxRetries during an outage with action retry', async () => {
    const c = makeClient({ maxRetries: 3 });
    emu.setOutage(true);
    const err = (await c.call(portalId, 'app.info').catch((e: unknown) => e)) as Bitrix24Error;
    expect(err).toBeInstanceOf(Bitrix24Error);
    expect(err.action).toBe('retry');
    expect(err.httpStatus).toBe(503);
    expect(c.restRequests(portalId)).toBe(4);
  });

  it('treats a refused connection as retryable', async () => {
    const c = makeClient({ maxRetries: 1 });
    await emu.close();
    const err = (await c.call(portalId, 'app.info').catch((e: unknown) => e)) as Bitrix24Error;
    expect(err.action).toBe('retry');
    emu = await startBitrix24Emulator(); // afterEach closes it
  });

  it('fetchAll walks 120 contacts with start=-1 in three pages', async () => {
    for (let i = 0; i < 120; i++)
      emu.addContact({ NAME: `C${i}`, PHONE: [`+37533${String(1000000 + i)}`] });
    const all = await fetchAll<{ ID: string; PHONE?: { VALUE: string }[] }>(
      client,
      portalId,
      'crm.contact.list',
      {
        select: ['ID', 'NAME', 'PHONE'],
      },
    );
    expect(all).toHaveLength(120);
    expect(all.map((c) => Number(c.ID))).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(all[119]?.PHONE?.[0]?.VALUE).toBe('+375331000119');
    expect(emu.restRequests.byMethod['crm.contact.list']).toBe(3);
  });
});
