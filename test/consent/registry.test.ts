import { CompiledQuery } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { checkMarketingConsent } from '../../src/consent/check.js';
import { ensureConsentField } from '../../src/consent/field.js';
import { syncConsent } from '../../src/consent/sync.js';
import { makeConsentSyncer } from '../../src/consent/syncer.js';
import { parseConsentValue } from '../../src/consent/values.js';
import { ENTITY_TYPE } from '../../src/emulators/bitrix24/index.js';
import { silentLogger } from '../../src/log.js';
import {
  addOptout,
  consentLookupQuery,
  consentRegistryStats,
  consentRowsForPhone,
  getSyncState,
  saveConsentRecords,
} from '../../src/store/consent.js';
import { DIALECTS } from '../helpers/db.js';
import { planOf } from '../helpers/plans.js';
import { type ConsentEnv, startConsentEnv } from './setup.js';

const FIELD = 'UF_CRM_SMS_CONSENT';
/** Distinct valid MTS/A1 numbers: +375 29 1000000 + i. */
const phoneOf = (i: number) => `+37529${String(1_000_000 + i)}`;

describe('parseConsentValue', () => {
  it('reads every boolean spelling Bitrix24 uses, and empty as not set', () => {
    for (const v of ['1', 'Y', 'y', true, 1, 'true', ['1']])
      expect(parseConsentValue(v)).toBe(true);
    for (const v of ['0', 'N', false, 0, 'false']) expect(parseConsentValue(v)).toBe(false);
    for (const v of ['', null, undefined, 'maybe', {}]) expect(parseConsentValue(v)).toBeNull();
  });
});

for (const dialect of DIALECTS) {
  describe(`consent registry on ${dialect}`, () => {
    let env: ConsentEnv;
    beforeEach(async () => {
      env = await startConsentEnv(dialect);
    });
    afterEach(() => env.close());

    it('looks a number up through its (portal, phone) index, not the whole portal, and lists its rows contacts first by ID', async () => {
      // A number on three records, among 3,000 others of the same portal.
      const shared = '+375297777777';
      await saveConsentRecords(
        env.db.conn,
        env.portalId,
        [
          ...Array.from({ length: 3000 }, (_, i) => ({
            entityType: 'contact' as const,
            entityId: 100 + i,
            phones: [phoneOf(i)],
            consent: true,
            modifiedAt: null,
          })),
          { entityType: 'lead', entityId: 2, phones: [shared], consent: true, modifiedAt: null },
          {
            entityType: 'contact',
            entityId: 7,
            phones: [shared],
            consent: false,
            modifiedAt: null,
          },
          { entityType: 'contact', entityId: 3, phones: [shared], consent: null, modifiedAt: null },
        ],
        Date.now(),
      );
      // SQLite as the service runs it: no statistics (nothing runs ANALYZE). PostgreSQL with its own.
      if (dialect === 'postgres')
        await env.db.conn.db.executeQuery(CompiledQuery.raw('analyze consent_records', []));
      const plan = await planOf(
        env.db.conn,
        consentLookupQuery(env.db.conn, env.portalId, shared),
        'consent_records',
      );
      // With an ORDER BY on (type, id) SQLite walked the primary key over every row of the
      // portal: 0.75 ms a lookup at 12,000 records, 25 of them in one event-loop turn.
      expect(plan).toMatchObject({ indexes: ['consent_records_phone'], tableScan: false });
      const rows = await consentRowsForPhone(env.db.conn, env.portalId, shared);
      expect(rows.map((r) => `${r.entity_type} ${r.entity_id}`)).toEqual([
        'contact 3',
        'contact 7',
        'lead 2',
      ]);
    });

    it('ensureConsentField creates the boolean field on contacts and leads once, then is idempotent', async () => {
      const r0 = env.requests();
      expect(await ensureConsentField(env.api, env.portalId)).toEqual({
        contact: 'created',
        lead: 'created',
      });
      expect(env.requests() - r0).toBe(2); // one batch of lists, one batch of adds
      const fields = env.emu.userFields.filter((f) => f.FIELD_NAME === FIELD);
      expect(fields.map((f) => [f.ENTITY_ID, f.USER_TYPE_ID]).sort()).toEqual([
        ['CRM_CONTACT', 'boolean'],
        ['CRM_LEAD', 'boolean'],
      ]);

      const r1 = env.requests();
      expect(await ensureConsentField(env.api, env.portalId)).toEqual({
        contact: 'exists',
        lead: 'exists',
      });
      expect(env.requests() - r1).toBe(1);
      expect(env.emu.userFields.filter((f) => f.FIELD_NAME === FIELD)).toHaveLength(2);
    });

    it('ensureConsentField refuses a same-named field of another type', async () => {
      env.emu.addUserField('contact', FIELD, 'string');
      await expect(
        ensureConsentField(env.api, env.portalId, FIELD, { entities: ['contact'] }),
      ).rejects.toThrow(/exists with type string, not boolean/);
    });

    it('syncs 10,000 contacts in a few batched requests, then picks up changes incrementally', async () => {
      await ensureConsentField(env.api, env.portalId);
      // Seed straight into the emulated CRM, with DATE_MODIFY spread over the past 10 hours
      // as a real CRM's would be.
      const base = Date.now() - 10 * 3600_000;
      for (let i = 0; i < 10_000; i++) {
        env.portalClock.pinned = base + i * 3_000;
        env.emu.addContact({
          NAME: `C${i}`,
          PHONE: [phoneOf(i)],
          [FIELD]: i % 2 === 0 ? '1' : '0',
        });
      }
      env.portalClock.pinned = null;

      // Record the size of each batch: no command may chain onto a page that might be short.
      const sizes: number[] = [];
      const recording = {
        call: env.api.call.bind(env.api),
        batch: (portalId: string, cmds: Parameters<typeof env.api.batch>[1]) => {
          sizes.push(Object.keys(cmds).length);
          return env.api.batch(portalId, cmds);
        },
      };
      const deps = { ...env.deps, api: recording };

      const r0 = env.requests();
      const t0 = Date.now();
      const full = await syncConsent(deps, env.portalId);
      const fullRequests = env.requests() - r0;
      console.log(
        `[${dialect}] full sync: ${full.records} records, ${fullRequests} REST requests ` +
          `(${JSON.stringify(full.entities.map((e) => [e.entity, e.requests]))}), ${Date.now() - t0} ms`,
      );
      expect(full.records).toBe(10_000);
      expect(full.entities.map((e) => e.mode)).toEqual(['full', 'full']);
      // A probe batch (a counted first page of contacts and of leads), then the 199 pages
      // left in 4 batches of chained pages.
      expect(full.entities.map((e) => [e.entity, e.requests])).toEqual([
        ['contact', 5],
        ['lead', 1],
      ]);
      expect(fullRequests).toBe(5);
      expect(sizes).toEqual([2, 50, 50, 50, 49]);
      expect(fullRequests).toBe(full.requests);
      expect(await consentRegistryStats(env.db.conn, env.portalId)).toEqual({
        records: 10_000,
        phones: 10_000,
        yes: 5_000,
        no: 5_000,
      });

      // Checks are answered from the registry: no REST call.
      const r1 = env.requests();
      expect(await checkMarketingConsent(env.deps, env.portalId, phoneOf(10))).toEqual({
        allowed: true,
      });
      expect(await checkMarketingConsent(env.deps, env.portalId, phoneOf(11))).toEqual({
        allowed: false,
        reason: `no marketing consent: contact #12 has ${FIELD} = no`,
      });
      expect(env.requests()).toBe(r1);

      // Three changes: a yes flips to no, a no flips to yes, a number moves to another contact.
      env.emu.crm.update(ENTITY_TYPE.CONTACT, 11, { [FIELD]: '0' }); // phoneOf(10): yes → no
      env.emu.crm.update(ENTITY_TYPE.CONTACT, 12, { [FIELD]: '1' }); // phoneOf(11): no → yes
      const c = env.emu.crm.get(ENTITY_TYPE.CONTACT, 21) as { PHONE: { ID: string }[] };
      env.emu.crm.update(ENTITY_TYPE.CONTACT, 21, {
        PHONE: [{ ID: c.PHONE[0]?.ID, VALUE: '+375447654321' }],
      });

      const r2 = env.requests();
      sizes.length = 0;
      const inc = await syncConsent(deps, env.portalId);
      const incRequests = env.requests() - r2;
      console.log(
        `[${dialect}] incremental sync: ${inc.records} records, ${incRequests} REST requests`,
      );
      // Leads: none yet, so no DATE_MODIFY bound either — their pass stays a (1-request) full one.
      expect(inc.entities.map((e) => e.mode)).toEqual(['incremental', 'full']);
      expect(incRequests).toBe(1); // both types' changes fit the probe batch
      expect(sizes).toEqual([2]);
      // The three changed records, plus the few last-seeded ones inside the overlap window.
      expect(inc.records).toBeGreaterThanOrEqual(3);
      expect(inc.records).toBeLessThan(20);

      const r3 = env.requests();
      expect(await checkMarketingConsent(env.deps, env.portalId, phoneOf(10))).toEqual({
        allowed: false,
        reason: `no marketing consent: contact #11 has ${FIELD} = no`,
      });
      expect(await checkMarketingConsent(env.deps, env.portalId, phoneOf(11))).toEqual({
        allowed: true,
      });
      expect(await consentRowsForPhone(env.db.conn, env.portalId, phoneOf(20))).toEqual([]);
      expect(
        (await consentRowsForPhone(env.db.conn, env.portalId, '+375447654321')).map(
          (r) => r.entity_id,
        ),
      ).toEqual([21]);
      expect(env.requests()).toBe(r3);

      // Nothing changed since: the next incremental pass reads at most the overlap window.
      const r4 = env.requests();
      await syncConsent(env.deps, env.portalId);
      expect(env.requests() - r4).toBe(1);
    }, 60_000);

    it('a full re-read drops records deleted from the CRM', async () => {
      await ensureConsentField(env.api, env.portalId, FIELD, { entities: ['contact'] });
      const deps = { ...env.deps, entities: ['contact' as const] };
      env.emu.addContact({ NAME: 'A', PHONE: [phoneOf(1)], [FIELD]: '1' });
      env.emu.addContact({ NAME: 'B', PHONE: [phoneOf(2)], [FIELD]: '1' });
      const first = await syncConsent(deps, env.portalId);
      expect(first.requests).toBe(1); // a small CRM fits in one batch
      expect((await consentRegistryStats(env.db.conn, env.portalId)).records).toBe(2);
      // Deleting leaves DATE_MODIFY nothing to show; only a full pass notices. The emulator has
      // no crm.contact.delete, so reach into its store.
      (env.emu.crm as unknown as { tables: Map<number, Map<number, unknown>> }).tables
        .get(ENTITY_TYPE.CONTACT)
        ?.delete(2);
      await new Promise((r) => setTimeout(r, 5));
      const again = await syncConsent(deps, env.portalId, { full: true });
      expect(again.entities[0]).toMatchObject({ mode: 'full', records: 1, dropped: 1 });
      expect((await consentRegistryStats(env.db.conn, env.portalId)).records).toBe(1);
    });

    describe('checkMarketingConsent', () => {
      beforeEach(async () => {
        await ensureConsentField(env.api, env.portalId);
      });

      it('allows with consent, refuses without, and an explicit no on another record wins', async () => {
        env.emu.addContact({ NAME: 'Yes', PHONE: ['+375291111111'], [FIELD]: '1' });
        env.emu.addContact({ NAME: 'No', PHONE: ['+375292222222'], [FIELD]: '0' });
        env.emu.addContact({ NAME: 'Dup yes', PHONE: ['8 029 333-33-33'], [FIELD]: '1' });
        const dupNo = env.emu.addContact({
          NAME: 'Dup no',
          PHONE: ['+375 29 333 33 33'],
          [FIELD]: '0',
        });
        env.emu.addLead({ TITLE: 'Lead', PHONE: ['+375294444444'], [FIELD]: 'Y' });
        await syncConsent(env.deps, env.portalId);

        const r0 = env.requests();
        expect(await checkMarketingConsent(env.deps, env.portalId, '80291111111')).toEqual({
          allowed: true,
        });
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375292222222')).toEqual({
          allowed: false,
          reason: `no marketing consent: contact #2 has ${FIELD} = no`,
        });
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375293333333')).toEqual({
          allowed: false,
          reason: `no marketing consent: contact #${dupNo} has ${FIELD} = no`,
        });
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375294444444')).toEqual({
          allowed: true,
        });
        expect(env.requests()).toBe(r0);
      });

      it('looks up a number the registry has never seen once (≤ 2 requests), then answers from the registry', async () => {
        await syncConsent(env.deps, env.portalId);
        const id = env.emu.addContact({
          NAME: 'New',
          PHONE: ['+375 (29) 555-66-77'],
          [FIELD]: '1',
        });

        const r0 = env.requests();
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375295556677')).toEqual({
          allowed: true,
        });
        const lookup = env.requests() - r0;
        console.log(`[${dialect}] live lookup of an unseen number: ${lookup} REST requests`);
        expect(lookup).toBe(2);
        expect(
          (await consentRowsForPhone(env.db.conn, env.portalId, '+375295556677')).map(
            (r) => r.entity_id,
          ),
        ).toEqual([id]);

        const r1 = env.requests();
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375295556677')).toEqual({
          allowed: true,
        });
        expect(env.requests()).toBe(r1);
      });

      it('a number on no CRM record is refused after one request, and the second check is free', async () => {
        const r0 = env.requests();
        const expected = {
          allowed: false,
          reason: 'no marketing consent: no CRM contact or lead has this number',
        };
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375297778899')).toEqual(
          expected,
        );
        expect(env.requests() - r0).toBe(1);
        const r1 = env.requests();
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375297778899')).toEqual(
          expected,
        );
        expect(env.requests()).toBe(r1);
        // Contacts only: the reason says so.
        const contactsOnly = { ...env.deps, entities: ['contact' as const] };
        expect(
          await checkMarketingConsent(contactsOnly, env.portalId, '+375297778800'),
        ).toMatchObject({
          reason: 'no marketing consent: no CRM contact has this number',
        });
      });

      it('an opt-out beats CRM consent, and costs no REST call', async () => {
        env.emu.addContact({ NAME: 'Yes', PHONE: ['+375291111111'], [FIELD]: '1' });
        await syncConsent(env.deps, env.portalId);
        const stopAt = Date.UTC(2026, 10, 20, 12, 0, 0);
        await addOptout(
          env.db.conn,
          { phone: '+375291111111', reason: 'reply STOP', source: 'reply' },
          stopAt,
        );
        const r0 = env.requests();
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375291111111')).toEqual({
          allowed: false,
          reason: 'opted out on 2026-11-20 (reply STOP)',
        });
        // An opt-out for another portal does not apply here.
        await addOptout(env.db.conn, { phone: '+375292222222', portalId: 'other-portal' }, stopAt);
        env.emu.addContact({ NAME: 'Yes 2', PHONE: ['+375292222222'], [FIELD]: '1' });
        await syncConsent(env.deps, env.portalId);
        expect(await checkMarketingConsent(env.deps, env.portalId, '+375292222222')).toEqual({
          allowed: true,
        });
        expect(
          await checkMarketingConsent(env.deps, 'other-portal', '+375292222222'),
        ).toMatchObject({
          allowed: false,
          reason: 'opted out on 2026-11-20',
        });
        expect(env.requests() - r0).toBe(1); // only the sync
      });

      it('refuses (retryable) when the CRM cannot be asked', async () => {
        env.emu.setMethodBlocked('crm.duplicate.findbycomm', true);
        const d = await checkMarketingConsent(env.deps, env.portalId, '+375291212121');
        expect(d).toMatchObject({ allowed: false, retryable: true });
        expect(d.allowed === false && d.reason).toMatch(
          /^no marketing consent: the CRM could not be checked/,
        );
      });
    });

    it('an interrupted pass resumes from its last committed page', async () => {
      await ensureConsentField(env.api, env.portalId, FIELD, { entities: ['contact'] });
      for (let i = 0; i < 2_600; i++)
        env.emu.addContact({ NAME: `C${i}`, PHONE: [phoneOf(i)], [FIELD]: '1' });
      // The third batch of the pass fails (network down); the probe's 50 records and the
      // second batch's 2 500 stay.
      let batches = 0;
      const flaky = {
        call: env.api.call.bind(env.api),
        batch: (...args: Parameters<typeof env.api.batch>) => {
          batches += 1;
          return batches === 3 ? Promise.reject(new Error('network down')) : env.api.batch(...args);
        },
      };
      const deps = { ...env.deps, api: flaky, entities: ['contact' as const] };
      await expect(syncConsent(deps, env.portalId)).rejects.toThrow(/network down/);
      expect(await getSyncState(env.db.conn, env.portalId, 'contact')).toMatchObject({
        pass_full: 1,
        last_id: 2_550,
        last_error: 'network down',
      });
      expect((await consentRegistryStats(env.db.conn, env.portalId)).records).toBe(2_550);

      const r = await syncConsent(deps, env.portalId);
      expect(r.entities[0]).toMatchObject({ mode: 'full', records: 50, requests: 1 });
      expect((await consentRegistryStats(env.db.conn, env.portalId)).records).toBe(2_600);
      const st = await getSyncState(env.db.conn, env.portalId, 'contact');
      expect(st).toMatchObject({ pass_started_at: null, last_error: null, last_id: 0 });
      expect(st?.since).not.toBeNull();
    });

    it('a list error inside the batch fails the sync with the Bitrix24 error', async () => {
      env.emu.setMethodBlocked('crm.contact.list', true);
      await expect(syncConsent(env.deps, env.portalId)).rejects.toThrow(
        /contact: .*OPERATION_TIME_LIMIT/,
      );
    });

    it('the syncer syncs every active portal under a lease', async () => {
      await ensureConsentField(env.api, env.portalId);
      env.emu.addContact({ NAME: 'Yes', PHONE: ['+375291111111'], [FIELD]: '1' });
      const mk = (holder: string) =>
        makeConsentSyncer({
          conn: env.db.conn,
          api: env.api,
          clock: systemClock,
          logger: silentLogger,
          holder,
          intervalMs: 60_000,
        });
      const a = mk('instance-a');
      const b = mk('instance-b');
      expect(await a.round()).toBe(1);
      expect(await b.round()).toBe(0); // a holds the lease
      expect((await consentRegistryStats(env.db.conn, env.portalId)).yes).toBe(1);

      // syncNow shares an in-flight sync of the same portal.
      const [x, y] = [a.syncNow(env.portalId), a.syncNow(env.portalId)];
      expect(x).toBe(y);
      await x;

      a.start();
      await a.stop();
      await b.stop();
    });
  });
}
