import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import {
  type ContractState,
  drainSeconds,
  explainBacklog,
  type HoldState,
  readBacklog,
  runningContract,
} from '../../src/core/backlog.js';
import { intakeSms } from '../../src/core/intake.js';
import { parseQuietHours } from '../../src/domain/quietHours.js';
import type { BacklogSummary, LaneCounts } from '../../src/store/index.js';
import { pauseContract, upsertContract } from '../../src/store/index.js';
import { createTestDb, seedPortal, type TestDb } from '../helpers/db.js';

/** 2026-11-24 (a Tuesday) 22:00 Minsk = 19:00 UTC: inside the default quiet hours. */
const EVENING = Date.UTC(2026, 10, 24, 19, 0, 0);
/** 09:00 Minsk the next morning, when those quiet hours end. */
const MORNING = Date.UTC(2026, 10, 25, 6, 0, 0);
const QUIET = parseQuietHours('21:00-09:00');

function contract(over: Partial<ContractState> = {}): ContractState {
  return { ...runningContract('default', 10), ...over };
}

function lane(over: Partial<LaneCounts> & Pick<LaneCounts, 'priority'>): LaneCounts {
  return {
    contractId: 'default',
    due: 0,
    later: 0,
    held: 0,
    sending: 0,
    queuedByAlpha: {},
    oldestCreatedAt: 0,
    ...over,
  };
}

function summary(now: number, over: Partial<BacklogSummary>): BacklogSummary {
  const lanes = over.lanes ?? [];
  return {
    at: now,
    total: lanes.reduce((n, l) => n + l.due + l.later + l.held + l.sending, 0),
    oldestCreatedAt: lanes.length ? Math.min(...lanes.map((l) => l.oldestCreatedAt)) : null,
    lanes,
    portals: [],
    campaigns: [],
    held: [],
    scheduled: [],
    ...over,
  };
}

describe('explainBacklog', () => {
  const clock = new FakeClock(EVENING);

  it('drains transactional first, then marketing, at the contract rate', () => {
    const now = clock.now();
    const b = explainBacklog({
      summary: summary(now, {
        lanes: [
          lane({ priority: 0, due: 19, sending: 1, oldestCreatedAt: now - 5000 }),
          lane({ priority: 1, due: 100, oldestCreatedAt: now - 2000 }),
        ],
      }),
      contracts: [contract()],
      holds: [],
      quietHours: null,
      now,
    });
    expect(b.waiting).toBe(120);
    expect(b.oldestAgeSeconds).toBe(5);
    const [tx, mk] = b.lanes;
    expect(tx).toMatchObject({ lane: 'transactional', waiting: 20, rate: 10, etaSeconds: 2 });
    expect(tx?.byReason).toMatchObject({ rate: 19, sending: 1, held: 0, paused: 0 });
    expect(mk).toMatchObject({ lane: 'marketing', waiting: 100, etaSeconds: 12 });
    expect(mk?.reasons.map((r) => r.reason)).toEqual(['rate']);
    expect(b.lines.join('\n')).toMatch(
      /default\/marketing: 100 due now, waiting for the contract's rate \(10 per second, after transactional SMS\) — done in about 12 s/,
    );
  });

  it('slows with the pace MTS forced on the contract', () => {
    const now = clock.now();
    const b = explainBacklog({
      summary: summary(now, { lanes: [lane({ priority: 1, due: 50 })] }),
      contracts: [contract({ pace: 0.5, pace_at: now })],
      holds: [],
      quietHours: null,
      now,
    });
    expect(b.lanes[0]).toMatchObject({ rate: 5, etaSeconds: 10 });
  });

  it('names quiet hours and counts their end into the ETA', () => {
    const now = clock.now();
    const b = explainBacklog({
      summary: summary(now, {
        lanes: [lane({ priority: 0, later: 3 }), lane({ priority: 1, due: 10, later: 600 })],
        scheduled: [
          // A transactional send scheduled for 10:30: not quiet hours.
          { contractId: 'default', priority: 0, at: MORNING + 90 * 60_000, count: 3 },
          { contractId: 'default', priority: 1, at: MORNING, count: 600 },
        ],
      }),
      contracts: [contract()],
      holds: [],
      quietHours: QUIET,
      now,
    });
    const [tx, mk] = b.lanes;
    expect(tx?.byReason).toMatchObject({ scheduled: 3, quiet_hours: 0 });
    expect(tx?.etaSeconds).toBeCloseTo((MORNING + 90 * 60_000 - now) / 1000 + 0.3, 1);
    expect(mk?.byReason).toMatchObject({ quiet_hours: 600, scheduled: 0, rate: 10 });
    // 10 now (1 s), then 600 from 09:00 at 10/s.
    expect(mk?.etaSeconds).toBeCloseTo((MORNING - now) / 1000 + 60, 1);
    const quiet = mk?.reasons.find((r) => r.reason === 'quiet_hours');
    expect(quiet).toMatchObject({ count: 600, until: new Date(MORNING).toISOString() });
    expect(quiet?.text).toContain('2026-11-25 09:00 Minsk time');
    expect(quiet?.action).toMatch(/nothing to do/);
  });

  it('a paused contract blocks both lanes with no ETA, and says what to do', () => {
    const now = clock.now();
    const b = explainBacklog({
      summary: summary(now, {
        lanes: [lane({ priority: 0, due: 2 }), lane({ priority: 1, due: 40, later: 5 })],
        scheduled: [{ contractId: 'default', priority: 1, at: MORNING, count: 5 }],
      }),
      contracts: [
        contract({
          paused_since: now - 60_000,
          paused_until: now + 20_000,
          pause_code: 'MTS_10229',
          pause_reason: 'MTS cannot send anything on this account: quota exhausted',
        }),
      ],
      holds: [],
      quietHours: QUIET,
      now,
    });
    for (const l of b.lanes) {
      expect(l.etaSeconds).toBeNull();
      expect(l.etaUnblockedSeconds).toBeNull();
      expect(l.reasons.map((r) => r.reason)).toEqual(['paused']);
    }
    expect(b.lanes[1]?.byReason.paused).toBe(45);
    const p = b.lanes[1]?.reasons[0];
    expect(p?.text).toMatch(/MTS account "default" paused since .*: balance exhausted/);
    expect(p?.action).toBe(
      'top up the MTS account; sending resumes by itself once a probe succeeds',
    );
    expect(p?.until).toBeNull();
  });

  it('a held alpha name blocks its messages (queued ones too); the others keep an ETA', () => {
    const now = clock.now();
    const b = explainBacklog({
      summary: summary(now, {
        lanes: [lane({ priority: 1, due: 25, held: 30, queuedByAlpha: { PROMO: 5, OTHER: 20 } })],
        held: [{ contractId: 'default', priority: 1, alphaName: 'PROMO', reason: 'r', count: 30 }],
      }),
      contracts: [contract()],
      holds: [{ contract_id: 'default', alpha_name: 'PROMO', reason: 'r', since: now - 1000 }],
      quietHours: null,
      now,
    });
    const mk = b.lanes[0];
    expect(mk?.byReason).toMatchObject({ held: 35, rate: 20 });
    expect(mk?.etaSeconds).toBeNull();
    expect(mk?.etaUnblockedSeconds).toBe(2);
    expect(mk?.reasons.find((r) => r.reason === 'held')?.text).toContain('"PROMO"');
    expect(b.held).toEqual([
      { contract: 'default', lane: 'marketing', alphaName: 'PROMO', reason: 'r', count: 30 },
    ]);
  });

  it('messages on a contract that no longer exists have no ETA', () => {
    const now = clock.now();
    const b = explainBacklog({
      summary: summary(now, { lanes: [lane({ contractId: 'portal:gone', priority: 0, due: 3 })] }),
      contracts: [contract()],
      holds: [] as HoldState[],
      quietHours: null,
      now,
    });
    expect(b.lanes[0]).toMatchObject({ rate: null, etaSeconds: null });
    expect(b.lanes[0]?.byReason.no_contract).toBe(3);
  });

  it('nothing waiting: no lanes, no age', () => {
    const b = explainBacklog({
      summary: summary(clock.now(), {}),
      contracts: [contract()],
      holds: [],
      quietHours: QUIET,
      now: clock.now(),
    });
    expect(b).toMatchObject({
      waiting: 0,
      oldestCreatedAt: null,
      oldestAgeSeconds: null,
      lanes: [],
      lines: [],
    });
  });
});

describe('drainSeconds', () => {
  it('a transactional burst arriving mid-drain delays marketing, never the other way', () => {
    const now = 1_000_000;
    const eta = drainSeconds(
      [
        { priority: 1, at: now, count: 100 },
        { priority: 0, at: now + 5000, count: 20 },
        { priority: 0, at: now, count: 10 },
      ],
      10,
      now,
    );
    // Transactional: 10 now (1 s), 20 at +5 s (done at +7 s).
    expect(eta.get(0)).toBeCloseTo(7, 5);
    // Marketing: 130 messages in all, the contract never idle: 13 s.
    expect(eta.get(1)).toBeCloseTo(13, 5);
    // A transactional message after marketing is done does not move marketing's ETA.
    const later = drainSeconds(
      [
        { priority: 1, at: now, count: 10 },
        { priority: 0, at: now + 60_000, count: 10 },
      ],
      10,
      now,
    );
    expect(later.get(1)).toBeCloseTo(1, 5);
    expect(later.get(0)).toBeCloseTo(61, 5);
  });
});

describe('readBacklog over a real store, on a fake clock', () => {
  let t: TestDb;
  const clock = new FakeClock(EVENING);
  beforeEach(async () => {
    t = await createTestDb('sqlite');
    await seedPortal(t.conn, 'member1', 'a.bitrix24.by');
    await upsertContract(t.conn, { id: 'default', label: 'default', rate: 20 }, clock.now());
  });
  afterEach(() => t.cleanup());

  it('marketing taken in quiet hours waits for their end, then waits for the rate', async () => {
    const request = {
      portalId: 'member1',
      b24MessageId: null,
      source: 'sender',
      kind: 'marketing' as const,
      to: '+375291234567',
      alphaName: 'PROMO',
      quietHours: QUIET,
      route: { contractId: 'default', vtStepMs: 50 },
    };
    for (let i = 0; i < 40; i++)
      await intakeSms(t.conn, { ...request, text: `offer ${i}` }, clock.now());
    await intakeSms(
      t.conn,
      { ...request, source: 'crm', kind: 'transactional', quietHours: null, text: 'code 1' },
      clock.now(),
    );
    const evening = await readBacklog({ conn: t.conn, now: clock.now(), quietHours: QUIET });
    const [tx, mk] = evening.lanes;
    expect(tx).toMatchObject({ waiting: 1, etaSeconds: 0.1 });
    expect(mk?.byReason.quiet_hours).toBe(40);
    expect(mk?.etaSeconds).toBeCloseTo((MORNING - EVENING) / 1000 + 2, 1);

    clock.advance(MORNING - EVENING);
    const morning = await readBacklog({ conn: t.conn, now: clock.now(), quietHours: QUIET });
    expect(morning.lanes[1]?.byReason).toMatchObject({ quiet_hours: 0, rate: 40 });
    expect(morning.lanes[1]?.etaSeconds).toBe(2.1);

    await pauseContract(
      t.conn,
      'default',
      { reason: 'MTS rejected the credentials', code: 'MTS_UNAUTHORIZED', probeInMs: 5000 },
      clock.now(),
    );
    const paused = await readBacklog({ conn: t.conn, now: clock.now(), quietHours: QUIET });
    expect(paused.lanes.map((l) => l.etaSeconds)).toEqual([null, null]);
    expect(paused.lines.join('\n')).toMatch(/credentials refused .*check MTS_LOGIN/s);
  });
});
