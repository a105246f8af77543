import { afterEach, describe, expect, it } from 'vitest';
import { intakeSms } from '../../src/core/intake.js';
import { listPortals } from '../../src/store/portals.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

type Ready = {
  sending: {
    paused: { contractId: string; reason: string; code: string }[];
    holds: { alphaName: string; reason: string }[];
  };
};
const readyz = async (url: string) => (await (await fetch(`${url}/readyz`)).json()) as Ready;

/** Queues `n` transactional messages of the installed portal with `alphaName`, directly. */
async function queue(h: Harness, n: number, alphaName: string, tag: string): Promise<string[]> {
  const portalId = (await listPortals(h.db.conn))[0]?.id as string;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { message } = await intakeSms(
      h.db.conn,
      {
        portalId,
        b24MessageId: null,
        source: 'bizproc',
        kind: 'transactional',
        to: `+3752910${String(10000 + ids.length).padStart(5, '0')}`,
        text: `${tag} ${i}`,
        alphaName,
        route: { contractId: 'default', vtStepMs: 50 },
      },
      Date.now(),
    );
    ids.push(message.id);
  }
  h.service.sender.wake();
  return ids;
}

const onceEach = (h: Harness, ids: string[]) =>
  ids.map((id) => h.mts.countByExtraId(id)).filter((n) => n !== 1);

/** MTS's real failure classes (SPEC §2), reproduced with the emulator's switches. */
for (const dialect of DIALECTS)
  describe(`MTS failures on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    it('balance exhausted (10229 inside a 200): paused, nothing fails, resumes after the top-up', async () => {
      h = await startHarness({ dialect, env: { MTS_PROBE_AFTER: '1', MTS_RATE_LIMIT: '20' } });
      h.mts.setFault('balance');
      const ids = await queue(h, 5, 'SANDBOX', 'balance');
      await waitFor(async () => (await readyz(h.url)).sending.paused.length === 1, 'the pause');
      expect((await readyz(h.url)).sending.paused[0]).toMatchObject({ code: 'MTS_10229' });
      await new Promise((r) => setTimeout(r, 1500));
      const states = await h.db.conn.db.selectFrom('messages').select('state').execute();
      expect(states.every((s) => s.state === 'queued' || s.state === 'sending')).toBe(true);
      const toppedUp = Date.now();
      h.mts.setFault('none');
      await waitFor(() => h.mts.sent.length === 5, 'all five after the top-up', 15_000);
      // Probes are ≤ 30 s apart at first; here 1 s, 2 s, 4 s…
      expect(Date.now() - toppedUp).toBeLessThan(6000);
      expect(onceEach(h, ids)).toEqual([]);
      expect((await readyz(h.url)).sending.paused).toEqual([]);
    }, 30_000);

    it('a refused alpha name (10262) is held; other names go on; it resumes by itself', async () => {
      h = await startHarness({ dialect, env: { MTS_PROBE_AFTER: '3', MTS_RATE_LIMIT: '50' } });
      h.mts.setMode({ heldAlphaNames: ['SANDBOX'] });
      const held = await queue(h, 4, 'SANDBOX', 'held');
      const other = await queue(h, 4, 'BRANDB', 'other');
      await waitFor(() => h.mts.sent.length === 4, 'the other alpha name');
      expect(h.mts.sent.every((s) => s.alphaName === 'BRANDB')).toBe(true);
      const ready = await readyz(h.url);
      expect(ready.sending.holds).toMatchObject([{ alphaName: 'SANDBOX' }]);
      const heldRows = async () =>
        (
          await h.db.conn.db
            .selectFrom('messages')
            .select(['state', 'hold_reason'])
            .where('id', 'in', held)
            .execute()
        ).filter((r) => r.state === 'held');
      // All wait as held (one may be out as the probe by now), with MTS's reason. Send
      // outcomes commit lazily (up to 200 ms, riding along with other writes).
      await waitFor(async () => (await heldRows()).length >= 3, 'the held state in the database');
      const waiting = await heldRows();
      expect(waiting.length).toBeGreaterThanOrEqual(3);
      for (const r of waiting) expect(r.hold_reason).toMatch(/10262|alpha/i);
      h.mts.setMode({ heldAlphaNames: [] });
      await waitFor(() => h.mts.sent.length === 8, 'the held name after MTS allows it', 15_000);
      expect(onceEach(h, [...held, ...other])).toEqual([]);
      expect((await readyz(h.url)).sending.holds).toEqual([]);
    }, 30_000);

    for (const overRate of ['throttle', '429'] as const)
      it(`MTS throttling (${overRate}) lowers the pace without failing or collapsing`, async () => {
        // We think the contract allows 20/s; MTS actually takes 8/s.
        h = await startHarness({ dialect, env: { MTS_RATE_LIMIT: '20' } });
        h.mts.setMode({ rate: 8, overRate });
        const start = Date.now();
        const ids = await queue(h, 80, 'SANDBOX', overRate);
        await waitFor(() => h.mts.sent.length === 80, 'all 80', 40_000, 50);
        const seconds = (Date.now() - start) / 1000;
        expect(onceEach(h, ids)).toEqual([]);
        // At least two thirds of what MTS accepts (8/s), never a stall.
        expect(80 / seconds).toBeGreaterThan(8 * 0.66);
        const failed = await h.db.conn.db
          .selectFrom('messages')
          .select('id')
          .where('state', '=', 'failed')
          .execute();
        expect(failed).toEqual([]);
      }, 60_000);

    it('an unknown error code is transient: retried, never a silent failure', async () => {
      h = await startHarness({ dialect, env: { MTS_RATE_LIMIT: '20' } });
      h.mts.failNext(1, 200, { error_code: 99_999, error_text: 'something new' });
      const ids = await queue(h, 1, 'SANDBOX', 'unknown');
      await waitFor(() => h.mts.sent.length === 1, 'the retry', 15_000);
      expect(onceEach(h, ids)).toEqual([]);
    }, 30_000);

    it('a send that timed out but MTS committed late is found by the lookup, never resent', async () => {
      // MTS answers after 1.5 s (we give up after 1 s) and shows the message to lookups only
      // once the first lookup has been told "not found" — which must mean "not yet" (within
      // MTS_LOOKUP_GRACE of the attempt), so the service asks again instead of resending.
      h = await startHarness({
        dialect,
        env: { MTS_TIMEOUT: '1', MTS_LOOKUP_GRACE: '8', MTS_RATE_LIMIT: '20' },
      });
      h.mts.setMode({ latencyMs: 1500, lookupDelayMs: 3_600_000, dlr: false });
      const ids = await queue(h, 1, 'SANDBOX', 'late');
      const lookups = () => h.mts.requests.filter((r) => r.url.includes('/dr/external/'));
      await waitFor(() => h.mts.sent.length === 1, 'the first (timed out) send');
      h.mts.setMode({ latencyMs: 0 });
      await waitFor(() => lookups().length >= 1, 'the first lookup ("not found")', 10_000);
      h.mts.setMode({ lookupDelayMs: 0 });
      await waitFor(
        async () =>
          (
            await h.db.conn.db
              .selectFrom('messages')
              .select('mts_message_id')
              .where('id', '=', ids[0] as string)
              .executeTakeFirst()
          )?.mts_message_id,
        'the lookup to find it',
        15_000,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(onceEach(h, ids)).toEqual([]);
      expect(lookups().length).toBeGreaterThanOrEqual(2);
    }, 45_000);
  });
