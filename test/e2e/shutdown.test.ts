import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService } from '../helpers/child.js';
import { type ChildHarness, startChildHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/**
 * SIGTERM: the service finishes the sends in flight — still accepting and committing intake
 * meanwhile — then stops and exits 0.
 */
describe('graceful shutdown', () => {
  let h: ChildHarness;
  beforeAll(async () => {
    h = await startChildHarness({
      mts: { latencyMs: [800, 1200], dlr: { delayMs: 50 } },
      env: { MTS_RATE_LIMIT: '20' },
    });
  }, 60_000);
  afterAll(() => h.close());

  it('finishes in-flight sends while still taking intake, leaves nothing claimed, and nothing needs a lookup afterwards', async () => {
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
    const exited = h.proc.stop();
    // While the sends in flight finish, a message from Bitrix24 is still taken and committed.
    await new Promise((r) => setTimeout(r, 100));
    const late = await h.b24.sendFromCard({ to: '+375293999999', text: 'during shutdown' });
    expect(late.status).toBe(200);
    expect(await exited).toBe(0);
    const lateRow = await h.db.conn.db
      .selectFrom('messages')
      .select(['state'])
      .where('b24_message_id', '=', late.messageId)
      .executeTakeFirst();
    expect(lateRow).toEqual({ state: 'queued' });
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
    await waitFor(() => h.mts.sent.length === 61, 'the rest after the restart', 30_000);
    expect(new Set(h.mts.sent.map((s) => s.extraId)).size).toBe(61);
    expect(h.mts.requests.filter((r) => r.url.includes('/dr/external/'))).toEqual([]);
  }, 90_000);
});
