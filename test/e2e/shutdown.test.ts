import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService } from '../helpers/child.js';
import { type ChildHarness, startChildHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/** SIGTERM: the service stops taking work, finishes the sends in flight and exits 0. */
describe('graceful shutdown', () => {
  let h: ChildHarness;
  beforeAll(async () => {
    h = await startChildHarness({
      mts: { latencyMs: [300, 600], dlr: { delayMs: 50 } },
      env: { MTS_RATE_LIMIT: '20' },
    });
  }, 60_000);
  afterAll(() => h.close());

  it('finishes in-flight sends, leaves nothing claimed, and nothing needs a lookup afterwards', async () => {
    const ids = Array.from({ length: 60 }, () => randomBytes(16).toString('hex'));
    for (const [i, id] of ids.entries()) {
      expect(
        (
          await h.b24.sendFromCard({
            to: `+37529${3_000_000 + i}`,
            text: `shutdown ${i}`,
            messageId: id,
          })
        ).status,
      ).toBe(200);
    }
    await waitFor(
      () => h.mts.requests.filter((r) => r.kind === 'send').length >= 10,
      'sends under way',
    );
    const exit = await h.proc.stop();
    expect(exit).toBe(0);
    const rows = await h.db.conn.db
      .selectFrom('messages')
      .select(['id', 'state', 'unsure'])
      .execute();
    expect(rows.filter((r) => r.state === 'sending')).toEqual([]);
    expect(rows.filter((r) => r.unsure)).toEqual([]);
    // Every send MTS received was recorded before the exit.
    const accepted = rows.filter((r) => r.state !== 'queued').map((r) => r.id);
    expect(new Set(h.mts.sent.map((s) => s.extraId))).toEqual(new Set(accepted));
    expect(accepted.length).toBeLessThan(60);

    h.proc = await spawnService(h.env, h.url);
    await waitFor(() => h.mts.sent.length === 60, 'the rest after the restart', 30_000);
    expect(new Set(h.mts.sent.map((s) => s.extraId)).size).toBe(60);
    expect(h.mts.requests.filter((r) => r.url.includes('/dr/external/'))).toEqual([]);
  }, 90_000);
});
