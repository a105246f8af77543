import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService } from '../helpers/child.js';
import { DIALECTS } from '../helpers/db.js';
import { type ChildHarness, startChildHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The promise "nothing lost, nothing sent twice", tested the hard way: a real service process
 * is killed with SIGKILL twice while a few hundred messages are being accepted and sent,
 * then restarted on the same database (on PostgreSQL the dead sender's claims are freed once
 * its liveness lease expires).
 */
for (const dialect of DIALECTS)
  describe(`kill -9 during sending (${dialect})`, () => {
    const TOTAL = 300;
    let h: ChildHarness;

    beforeAll(async () => {
      // Latency keeps requests in flight at the moment of the kill: MTS has them, we do not know yet.
      h = await startChildHarness({
        dialect,
        mts: { latencyMs: [20, 120], dlr: { delayMs: 100 } },
        env: { MTS_RATE_LIMIT: '60', B24_PUSH_DELAY_MS: '200' },
      });
    }, 60_000);

    afterAll(() => h.close());

    it('loses nothing and sends nothing twice across two SIGKILLs', async () => {
      const ids = Array.from({ length: TOTAL }, () => randomBytes(16).toString('hex'));
      const acked = new Set<string>();
      // Bitrix24 itself does not retry; this client does (same message_id), as an operator would.
      const sendAll = async () => {
        let next = 0;
        const worker = async () => {
          while (next < ids.length) {
            const id = ids[next++] as string;
            for (;;) {
              const r = await h.b24
                .sendFromCard({
                  to: `+37529${String(1000000 + ids.indexOf(id)).slice(-7)}`,
                  text: `crash test ${id}`,
                  messageId: id,
                })
                .catch(() => null);
              if (r?.status === 200) {
                acked.add(id);
                break;
              }
              await new Promise((res) => setTimeout(res, 100));
            }
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      };
      const sending = sendAll();

      for (const atSent of [60, 170]) {
        await waitFor(() => h.mts.sent.length >= atSent, `${atSent} messages at MTS`, 30_000, 5);
        await h.proc.kill9();
        h.proc = await spawnService(h.env, h.url);
      }
      await sending;
      expect(acked.size).toBe(TOTAL);

      await waitFor(
        () => new Set(h.mts.sent.map((s) => s.extraId)).size >= TOTAL,
        `all ${TOTAL} messages at MTS`,
        60_000,
        100,
      );
      // Settle: nothing more may arrive.
      await new Promise((r) => setTimeout(r, 1000));
      const rows = await h.db.conn.db
        .selectFrom('messages')
        .select(['id', 'b24_message_id', 'state'])
        .execute();
      expect(rows).toHaveLength(TOTAL);
      expect(new Set(rows.map((r) => r.b24_message_id))).toEqual(new Set(ids));
      const counts = rows.map((r) => h.mts.countByExtraId(r.id));
      expect(counts.filter((c) => c !== 1)).toEqual([]);
      expect(h.mts.sent).toHaveLength(TOTAL);
      // The kills did catch sends in flight: their outcome was looked up by extra_id, not resent.
      expect(h.mts.requests.filter((r) => r.url.includes('/dr/external/')).length).toBeGreaterThan(
        0,
      );
      // And every status reaches Bitrix24.
      await waitFor(
        () => ids.every((id) => h.b24.latestStatus(id) === 'delivered'),
        'all statuses delivered',
        30_000,
        200,
      );
    }, 180_000);
  });
