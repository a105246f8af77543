/**
 * 7. Overview. One database with the portal installed gets --overview-rows finished messages
 * spread over the last 30 days (five Sender IDs, card and robot sends), plus
 * --overview-backlog queued ones, seeded with plain SQL while its service is stopped (the
 * trigger's deltas are folded as the running service would). Then, with the service running:
 *  - `GET /api/overview` (today, 30 days, by day / Sender ID / type, the backlog), timed over
 *    HTTP --overview-requests times after 3 warm-ups: median and slowest; target ≤ 200 ms;
 *  - for comparison, the same figures computed the way they were before pre-aggregation —
 *    grouped reads of the 30 days of messages (by day, by Sender ID, by type) plus the count by
 *    state — on the bench's own connection: INFO, and the ratio.
 */
import { minskDate, minskDayStart } from '../../src/domain/minskTime.js';
import { createBenchDb } from '../lib/database.js';
import type { Part } from '../lib/part.js';
import { fmt, int, judge, note, type Row } from '../lib/report.js';
import { seedMessages } from '../lib/seed.js';
import { freePort, startServe } from '../lib/serviceProcess.js';
import { installPortal, serviceEnv } from '../lib/stack.js';
import { sleep } from '../lib/time.js';

const TOKEN = 'bench-admin-token';
const DAY = 86_400_000;
const SENDERS = ['SANDBOX', 'SHOP', 'DELIVERY', 'CLINIC', 'PROMO'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

export const overviewPart: Part = {
  name: 'overview',
  title: 'The admin overview over a million messages',
  async run(ctx) {
    const { emu, opts } = ctx;
    const rows = opts.n['overview-rows'];
    const backlog = opts.n['overview-backlog'];
    const db = await createBenchDb(opts.db);
    const env = serviceEnv(emu.info, db, await freePort(), { ADMIN_TOKEN: TOKEN });
    let svc = await startServe('service', env, { workers: true });
    try {
      await installPortal(emu, svc.url);
      await svc.stop();
      const now = Date.now();
      // The overview's 30 days: today and the 29 Minsk days before it.
      const from = minskDayStart(minskDate(now - 29 * DAY)) as number;
      const seeded = await seedMessages(db, {
        kind: 'final',
        count: rows,
        portalId: emu.info.memberId,
        tag: 7,
        now,
        spreadMs: now - from,
        alphaNames: SENDERS,
        onProgress: (done) => process.stderr.write(`\r  seeded ${int(done)}/${int(rows)}`),
      });
      await seedMessages(db, {
        kind: 'queued',
        count: backlog,
        portalId: emu.info.memberId,
        tag: 8,
        now,
      });
      process.stderr.write(
        `\r  seeded ${int(rows)} finished and ${int(backlog)} queued messages in ${fmt(seeded, 1)} s (figures folded)\n`,
      );

      svc = await startServe('service', env, { workers: true });
      const get = async () => {
        const t0 = performance.now();
        const r = await fetch(`${svc.url}/api/overview`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        const body = (await r.json()) as { last30?: { total: number } };
        if (r.status !== 200) throw new Error(`/api/overview answered ${r.status}`);
        return { ms: performance.now() - t0, total: body.last30?.total ?? 0 };
      };
      for (let i = 0; i < 3; i++) await get();
      const times: number[] = [];
      let total = 0;
      for (let i = 0; i < opts.n['overview-requests']; i++) {
        const r = await get();
        times.push(r.ms);
        total = r.total;
        await sleep(50);
      }
      const p50 = median(times);
      const worst = Math.max(...times);
      note(
        `  /api/overview: median ${fmt(p50, 1)} ms, slowest ${fmt(worst, 1)} ms over ${times.length} requests; last30.total ${int(total)}`,
      );

      // The same figures read from the messages themselves (the service keeps running alike).
      const day = `(created_at + ${3 * 3_600_000}) / ${DAY}`;
      const sums = `count(*), sum(case when accepted_at is not null then 1 else 0 end),
        sum(case when b24_status = 'delivered' then 1 else 0 end),
        sum(case when b24_status = 'undelivered' then 1 else 0 end),
        sum(case when b24_status = 'failed' then 1 else 0 end)`;
      const scan = async () => {
        const t0 = performance.now();
        const type = `case when campaign_id is not null then 'campaign' when source = 'crm' then 'card'
          when source in ('bizproc', 'robot') then 'robot' else 'marketing' end`;
        for (const key of [day, 'alpha_name', type])
          await db.query(
            `select ${key}, ${sums} from messages where created_at >= ${from} group by 1`,
          );
        await db.query('select state, count(*) from messages group by state');
        return performance.now() - t0;
      };
      await scan();
      const scanMs = median([await scan(), await scan(), await scan()]);
      note(`  the same figures by reading the messages: ${fmt(scanMs, 0)} ms`);

      const label = rows >= 1_000_000 ? `${rows / 1_000_000}M` : int(rows);
      const out: Row[] = [
        {
          part: 'overview',
          figure: `Overview with ${label} messages: median / slowest`,
          measured: `${fmt(p50, 1)} / ${fmt(worst, 1)} ms`,
          target: '≤ 200 ms',
          verdict: judge(worst <= 200 && total === rows + backlog),
          value: worst,
        },
        {
          part: 'overview',
          figure: `Reading the ${label} messages instead ÷ overview`,
          measured: `${fmt(scanMs / p50, 0)}× (${fmt(scanMs, 0)} ms vs ${fmt(p50, 1)} ms)`,
          target: 'info',
          verdict: 'INFO',
          value: scanMs / p50,
        },
      ];
      return out;
    } finally {
      await svc.stop();
      await db.destroy();
    }
  },
};
