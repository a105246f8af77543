import { afterEach, describe, expect, it } from 'vitest';
import type { Backlog, LaneBacklog } from '../../src/core/backlog.js';
import type { StatsReport } from '../../src/core/stats.js';
import { runCli } from '../helpers/child.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'burst-admin-token-123';
const BURST = 5000;
const IN_FLIGHT = 20;
const RATE = 20;
const CARD_TEXT = 'Your code is 4711';

/**
 * A CRM-marketing burst (issue 10, part 2): thousands of `module_id=sender` handler POSTs at
 * once are all answered and committed, drain at the contract's rate behind transactional
 * SMS, and the backlog — counts, ETA, reasons — is visible in /api/overview, /metrics and
 * `stats --json`.
 */
for (const dialect of DIALECTS)
  describe(`a CRM-marketing burst on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    const overview = async (): Promise<Backlog> => {
      const r = await fetch(`${h.url}/api/overview`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { backlog: Backlog }).backlog;
    };
    const lane = (b: Backlog, name: string) =>
      b.lanes.find((l) => l.contract === 'default' && l.lane === name) as LaneBacklog;
    const marketingAtMts = () => h.mts.sent.filter((s) => s.text.startsWith('Offer ')).length;
    const metric = (text: string, series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      const value = line?.slice(series.length + 1);
      return value === '+Inf'
        ? Number.POSITIVE_INFINITY
        : value === undefined
          ? undefined
          : Number(value);
    };

    it(`${BURST} sender POSTs: all committed, drained behind a card SMS, backlog visible with reasons`, async () => {
      h = await startHarness({
        dialect,
        env: { MTS_RATE_LIMIT: String(RATE), ADMIN_TOKEN: TOKEN },
      });
      h.b24.addContact({ NAME: 'Vera', PHONE: ['+375291234567'], UF_CRM_SMS_CONSENT: '1' });

      // The burst: BURST handler POSTs, IN_FLIGHT at a time; a card SMS half-way through.
      const statuses: number[] = [];
      let next = 0;
      let card: Promise<{ status: number }> | undefined;
      let marketingBeforeCardPost = 0;
      const worker = async () => {
        while (next < BURST) {
          const i = next++;
          if (i === BURST / 2) {
            marketingBeforeCardPost = i;
            card = h.b24.sendFromCard({ to: '+375447654321', text: CARD_TEXT });
          }
          const r = await h.b24.sendFromCard({
            to: '+375291234567',
            text: `Offer ${i}`,
            moduleId: 'sender',
            withAuth: false,
          });
          statuses.push(r.status);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      expect((await card)?.status).toBe(200);
      expect(statuses).toHaveLength(BURST);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      const committed = await h.db.conn.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('source', '=', 'sender')
        .executeTakeFirstOrThrow();
      expect(Number(committed.n)).toBe(BURST);

      // The card SMS overtook the marketing queued before it.
      await waitFor(() => h.mts.sent.some((s) => s.text === CARD_TEXT), 'the card SMS at MTS');
      const cardAt = h.mts.sent.findIndex((s) => s.text === CARD_TEXT);
      const marketingAhead = h.mts.sent.slice(0, cardAt).length;
      expect(marketingAhead).toBeLessThan(marketingBeforeCardPost);
      expect(BURST - marketingAhead).toBeGreaterThan(BURST / 2);

      // The admin API: counts within what MTS had before and after the read, a sane ETA.
      const before = marketingAtMts();
      const b = await overview();
      const after = marketingAtMts();
      const mk = lane(b, 'marketing');
      expect(mk.waiting).toBeGreaterThanOrEqual(BURST - after);
      // Sent but its outcome not committed yet still waits (as `sending`): a few at most.
      expect(mk.waiting).toBeLessThanOrEqual(BURST - before + 2 * IN_FLIGHT);
      expect(b.waiting).toBe(mk.waiting + (lane(b, 'transactional')?.waiting ?? 0));
      expect(mk.byReason.rate + mk.byReason.sending).toBe(mk.waiting);
      expect(mk.rate).toBe(RATE);
      expect(mk.etaSeconds).toBeGreaterThanOrEqual(mk.waiting / RATE - 1);
      expect(mk.etaSeconds).toBeLessThanOrEqual(mk.waiting / RATE + 1);
      expect(b.oldestAgeSeconds).toBeGreaterThan(0);
      expect(b.portals).toEqual([{ portal: h.b24.memberId, waiting: b.waiting }]);
      expect(b.lines.join('\n')).toMatch(
        /default\/marketing: \d+ due now, waiting for the contract's rate \(20 per second, after transactional SMS\)/,
      );

      // /metrics: the same figures as gauges.
      const m1 = await (await fetch(`${h.url}/metrics`)).text();
      const rateWaiting = metric(
        m1,
        'b24mts_backlog_messages{contract="default",lane="marketing",reason="rate"}',
      );
      expect(rateWaiting).toBeGreaterThan(BURST / 2);
      expect(rateWaiting).toBeLessThanOrEqual(mk.waiting);
      const eta = metric(m1, 'b24mts_backlog_eta_seconds{contract="default",lane="marketing"}');
      expect(eta).toBeGreaterThan(BURST / 2 / RATE);
      expect(eta).toBeLessThanOrEqual((mk.etaSeconds ?? 0) + 1);
      expect(metric(m1, 'b24mts_backlog_oldest_age_seconds')).toBeGreaterThan(0);

      // `stats --json`, a real child process on the same database.
      const cli = await runCli(['stats', '--by', 'type', '--json'], {
        ...h.env,
        LOG_LEVEL: 'silent',
      });
      expect(cli.code, cli.output).toBe(0);
      const report = JSON.parse(cli.stdout) as StatsReport;
      const byType = Object.fromEntries(report.rows.map((r) => [r.key, r]));
      expect(byType.card).toMatchObject({ submitted: 1, failed: 0 });
      const marketing = byType.marketing;
      const m = { delivered: 0, undelivered: 0, failed: 0, pending: 0, ...marketing };
      expect(m.delivered + m.undelivered + m.failed + m.pending).toBe(BURST);
      expect(m.failed).toBe(0);
      expect(marketing?.submitted).toBeGreaterThanOrEqual(m.delivered);
      expect(marketing?.pending).toBeGreaterThan(BURST / 2);
      const cliLane = lane(report.backlog, 'marketing');
      expect(cliLane.waiting).toBeLessThanOrEqual(mk.waiting);
      expect(cliLane.waiting).toBeGreaterThan(BURST / 2);
      expect(cliLane.etaSeconds).toBeCloseTo(cliLane.waiting / RATE, -1);

      // MTS refuses the marketing alpha name: its messages are held, with the reason.
      h.mts.setMode({ heldAlphaNames: ['SANDBOXMKT'] });
      const held = await waitFor(
        async () => {
          const o = await overview();
          return lane(o, 'marketing').byReason.held > BURST / 2 ? o : undefined;
        },
        'the marketing alpha name held',
        15_000,
        100,
      );
      expect(lane(held, 'marketing').etaSeconds).toBeNull();
      expect(held.held[0]).toMatchObject({ contract: 'default', alphaName: 'SANDBOXMKT' });
      expect(held.lines.join('\n')).toMatch(/held: MTS refuses the alpha name "SANDBOXMKT"/);

      // The account runs out of balance: a card SMS pauses the contract, with the reason.
      h.mts.setMode({ account: 'balance' });
      await h.b24.sendFromCard({ to: '+375447654321', text: 'Your code is 5812' });
      const paused = await waitFor(
        async () => {
          const o = await overview();
          return lane(o, 'transactional')?.byReason.paused ? o : undefined;
        },
        'the contract paused',
        15_000,
        100,
      );
      const pausedReason = lane(paused, 'transactional').reasons.find((r) => r.reason === 'paused');
      expect(pausedReason?.text).toMatch(/MTS account "default" paused since .*balance exhausted/);
      expect(pausedReason?.action).toMatch(/^top up the MTS account; sending resumes by itself/);
      expect(lane(paused, 'transactional').etaSeconds).toBeNull();
      const m2 = await (await fetch(`${h.url}/metrics`)).text();
      expect(
        metric(m2, 'b24mts_backlog_eta_seconds{contract="default",lane="transactional"}'),
      ).toBe(Number.POSITIVE_INFINITY);
      expect(
        metric(m2, 'b24mts_backlog_messages{contract="default",lane="marketing",reason="held"}'),
      ).toBeGreaterThan(BURST / 2);
    }, 120_000);
  });
