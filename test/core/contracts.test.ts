import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { contractIdFor, makeContractDirectory } from '../../src/core/contracts.js';
import { encryptSecret } from '../../src/core/secrets.js';
import type { MtsClientOptions } from '../../src/mts/client.js';
import type { MtsClient } from '../../src/mts/types.js';
import { type Contract, getContract, upsertContract } from '../../src/store/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

const KEY = 'test-secret-key-of-some-length';

/** A client that only remembers how it was made. */
function fakeClient(o: MtsClientOptions): MtsClient & { opts: MtsClientOptions } {
  const no = () => Promise.reject(new Error('not in this test'));
  return { opts: o, send: no, statusByMessageId: no, statusByExtraId: no, close: () => {} };
}

describe('the contract directory', () => {
  let t: TestDb;
  let clock: FakeClock;
  let made: MtsClientOptions[];
  const directory = () =>
    makeContractDirectory({
      conn: t.conn,
      clock,
      account: { baseUrl: 'https://mts.test', clientId: '42', login: 'env', password: 'pw' },
      defaults: { sender: 'SHOP', senderMarketing: 'SHOPMKT', rate: 20 },
      timeoutMs: 5000,
      secretKey: KEY,
      createClient: (o) => {
        made.push(o);
        return fakeClient(o);
      },
    });
  const portalContract = (over: Partial<Contract> = {}) =>
    upsertContract(
      t.conn,
      {
        id: 'portal:m1',
        label: 'own',
        api_url: null,
        client_id: '7',
        login: 'own',
        password_enc: encryptSecret('secret', KEY),
        token_enc: null,
        sender: null,
        sender_marketing: null,
        rate: 5,
        ...over,
      },
      clock.now(),
    );

  beforeEach(async () => {
    t = await createTestDb('sqlite');
    clock = new FakeClock();
    made = [];
  });
  afterEach(() => t.cleanup());

  it('saves the configured account as the default contract, without secrets', async () => {
    const d = directory();
    await d.saveDefault();
    expect(await getContract(t.conn, 'default')).toMatchObject({
      client_id: '42',
      login: 'env',
      password_enc: null,
      sender: 'SHOP',
      sender_marketing: 'SHOPMKT',
      rate: 20,
    });
    const def = (await d.byId()).get('default') as Contract;
    expect(d.mtsFor(def)).toBe(d.defaultClient);
    expect(made).toEqual([
      {
        baseUrl: 'https://mts.test',
        clientId: '42',
        login: 'env',
        password: 'pw',
        timeoutMs: 5000,
      },
    ]);
  });

  it("a portal contract's client has its secrets decrypted and is rebuilt only when they change", async () => {
    const d = directory();
    const c = await portalContract();
    const client = d.mtsFor(c);
    expect(made.at(-1)).toEqual({
      baseUrl: 'https://mts.test',
      clientId: '7',
      login: 'own',
      password: 'secret',
      timeoutMs: 5000,
    });
    expect(d.mtsFor({ ...c, rate: 9, sender: 'OTHER' })).toBe(client);
    const changed = await portalContract({ password_enc: encryptSecret('new', KEY) });
    expect(d.mtsFor(changed)).not.toBe(client);
    expect(made.at(-1)?.password).toBe('new');
  });

  it('re-reads contracts after 5 s; get finds one created since at once', async () => {
    const d = directory();
    await d.saveDefault();
    expect([...(await d.byId()).keys()]).toEqual(['default']);
    await portalContract();
    expect([...(await d.byId()).keys()]).toEqual(['default']);
    expect((await d.get('portal:m1'))?.id).toBe('portal:m1');
    expect(await d.get('portal:nobody')).toBeUndefined();
    clock.advance(5001);
    expect([...(await d.byId()).keys()]).toEqual(['default', 'portal:m1']);
  });

  it('a portal sends on its own contract when it has one, else on the default', () => {
    const contracts = new Map([['portal:m1', {} as Contract]]);
    expect(contractIdFor('m1', contracts)).toBe('portal:m1');
    expect(contractIdFor('m2', contracts)).toBe('default');
    expect(contractIdFor(null, contracts)).toBe('default');
  });
});
