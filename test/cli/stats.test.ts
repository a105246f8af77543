import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, insertMessage, migrate, transition } from '../../src/store/index.js';
import { runCli } from '../helpers/child.js';
import { seedPortal, testMessage } from '../helpers/db.js';

// Each CLI run is a Node process compiling the sources (tsx): several seconds apiece, and more
// beside a busy neighbour. A test of a few runs gets more than the suite's default 30 s.
vi.setConfig({ testTimeout: 90_000 });

/** 2026-03-10 00:30 Minsk is still 2026-03-09 in UTC: the day must follow Minsk. */
const MINSK_MIDNIGHT = Date.UTC(2026, 2, 9, 21, 0, 0);

describe('stats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-stats-'));
  const env = {
    DATABASE_URL: `sqlite:${join(dir, 'stats.sqlite')}`,
    LOG_LEVEL: 'silent',
    MARKETING_QUIET_HOURS: '',
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const conn = connect(env.DATABASE_URL);
    await migrate(conn);
    await seedPortal(conn, 'member1', 'a.bitrix24.by');
    await seedPortal(conn, 'member2', 'b.bitrix24.by');
    const add = async (
      at: number,
      over: Parameters<typeof testMessage>[0],
      end: 'delivered' | 'undelivered' | 'rejected' | 'refused' | 'sent' | 'queued',
    ) => {
      const refused = end === 'refused';
      const { message } = await insertMessage(
        conn,
        testMessage({ ...over, ...(refused ? { failReason: 'invalid: landline' } : {}) }),
        at,
      );
      if (refused || end === 'queued') return;
      const state = {
        delivered: 'DELIVRD',
        undelivered: 'UNDELIV',
        rejected: 'REJECTD',
        sent: 'ACCEPTD',
      }[end];
      const b24 = {
        delivered: 'delivered',
        undelivered: 'undelivered',
        rejected: 'failed',
        sent: 'sent',
      }[end];
      await transition(
        conn,
        message.id,
        'queued',
        { state: state as 'DELIVRD', b24_status: b24, accepted_at: at + 1000 },
        at,
      );
    };
    const day1 = MINSK_MIDNIGHT - 3_600_000; // 2026-03-09 23:00 Minsk
    const day2 = MINSK_MIDNIGHT + 30 * 60_000; // 2026-03-10 00:30 Minsk
    await add(day1, { source: 'crm' }, 'delivered');
    await add(day1, { source: 'crm' }, 'undelivered');
    await add(day1, { source: 'bizproc', alphaName: 'SHOP' }, 'refused');
    await add(day2, { source: 'sender', kind: 'marketing', alphaName: 'PROMO' }, 'delivered');
    await add(day2, { source: 'sender', kind: 'marketing', alphaName: 'PROMO' }, 'rejected');
    await add(day2, { source: 'robot', alphaName: 'SHOP' }, 'sent');
    await add(day2, { source: 'cli', portalId: null, b24MessageId: null }, 'delivered');
    await add(
      day2,
      { source: 'campaign', kind: 'marketing', campaignId: 'c7', portalId: 'member2' },
      'queued',
    );
    // Outside the range asked for below.
    await add(day2 + 3 * 86_400_000, { source: 'crm' }, 'delivered');
    await conn.close();
  });

  const range = ['--from', '2026-03-09', '--to', '2026-03-10'];

  it('--json by day: Minsk days, the SPEC §6 shape, and the backlog', async () => {
    const r = await runCli(['stats', ...range, '--json'], env);
    expect(r.code, r.output).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['from', 'to', 'by', 'rows', 'backlog']);
    expect(doc).toMatchObject({ from: '2026-03-09', to: '2026-03-10', by: 'day' });
    expect(doc.rows).toEqual([
      {
        key: '2026-03-09',
        submitted: 2,
        delivered: 1,
        undelivered: 1,
        failed: 1,
        pending: 0,
        delivery_rate: 0.5,
      },
      {
        key: '2026-03-10',
        submitted: 4,
        delivered: 2,
        undelivered: 0,
        failed: 1,
        pending: 2,
        delivery_rate: 0.5,
      },
    ]);
    expect(doc.backlog).toMatchObject({
      waiting: 1,
      lanes: [{ contract: 'default', lane: 'marketing', waiting: 1 }],
      campaigns: [{ campaign: 'c7', waiting: 1 }],
    });
  });

  it('--by type, sender and campaign; --portal by domain', async () => {
    const byType = JSON.parse(
      (await runCli(['stats', ...range, '--by', 'type', '--json'], env)).stdout,
    );
    expect(
      Object.fromEntries(byType.rows.map((r: { key: string; pending: number }) => [r.key, r])),
    ).toMatchObject({
      card: { submitted: 2, delivered: 1, undelivered: 1 },
      robot: { submitted: 1, failed: 1, pending: 1, delivery_rate: 0 },
      marketing: { submitted: 2, delivered: 1, failed: 1 },
      test: { submitted: 1, delivered: 1, delivery_rate: 1 },
      campaign: { submitted: 0, pending: 1, delivery_rate: null },
    });
    const bySender = JSON.parse(
      (await runCli(['stats', ...range, '--by', 'sender', '--json'], env)).stdout,
    );
    expect(bySender.rows.map((r: { key: string }) => r.key)).toEqual(['BRAND', 'PROMO', 'SHOP']);
    const byCampaign = JSON.parse(
      (await runCli(['stats', ...range, '--by', 'campaign', '--json'], env)).stdout,
    );
    expect(byCampaign.rows.map((r: { key: string }) => r.key)).toEqual(['(none)', 'c7']);
    const one = JSON.parse(
      (await runCli(['stats', ...range, '--portal', 'b.bitrix24.by', '--json'], env)).stdout,
    );
    expect(one).toMatchObject({ portal: 'member2', rows: [{ key: '2026-03-10', pending: 1 }] });
  });

  it('prints an aligned table and the backlog in words', async () => {
    const r = await runCli(['stats', ...range, '--by', 'type'], env);
    expect(r.code, r.output).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('type'));
    expect(header).toMatch(
      /^type\s+submitted\s+delivered\s+undelivered\s+failed\s+pending\s+delivery rate$/,
    );
    const card = lines.find((l) => l.startsWith('card'));
    expect(card).toMatch(/50\.0 %$/);
    expect(card?.length).toBe(header?.length);
    expect(r.stdout).toMatch(/Backlog: 1 message\(s\) waiting/);
    expect(r.stdout).toMatch(/default\/marketing: 1 waiting, all sent in about/);
  });

  it('refuses bad input with one line and exit code 2', async () => {
    for (const [args, msg] of [
      [['--from', '2026-13-01'], /--from: expected a date/],
      [['--from', '2026-03-10', '--to', '2026-03-01'], /after --to/],
      [['--by', 'week'], /--by: one of day, sender, type, campaign/],
      [['--portal', 'nowhere.bitrix24.by'], /no installed portal/],
    ] as const) {
      const r = await runCli(['stats', ...args, '--json'], env);
      expect(r.code, r.output).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.output.trim().split('\n')).toHaveLength(1);
      expect(r.output).toMatch(msg);
    }
  });
});
