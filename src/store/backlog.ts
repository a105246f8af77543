import { type Compilable, sql } from 'kysely';
import type { Connection } from './dialects/types.js';

/**
 * The waiting work (queued, held, sending) as counts, for `/metrics`, the admin API and
 * `stats`. Every query filters on one waiting state by an equality the partial indexes
 * `messages_claim` / `messages_due` (queued), `messages_held` and `messages_sending` are
 * defined by, so the planner reads those indexes and the rows they point to — the waiting
 * ones — and never history: a million finished rows cost nothing here
 * (test/store/backlog.test.ts checks the plans on both backends).
 */

/** Queued, held or sending messages of one contract and lane. */
export interface LaneCounts {
  contractId: string;
  /** 0 transactional (card, robot, test), 1 marketing and campaigns. */
  priority: number;
  /** Queued and due now (waiting for a rate slot). */
  due: number;
  /** Queued with a send time in the future (quiet hours, a scheduled send). */
  later: number;
  /** Held: their alpha name is refused by MTS. */
  held: number;
  /** Claimed by a sender, the request under way. */
  sending: number;
  /** Queued messages by alpha name (a name put on hold after they were queued still blocks them). */
  queuedByAlpha: Record<string, number>;
  oldestCreatedAt: number;
}

/** Held messages of one contract, lane and alpha name, with the stored reason. */
export interface HeldCounts {
  contractId: string;
  priority: number;
  alphaName: string;
  reason: string | null;
  count: number;
}

/** Queued messages that become due later, by contract, lane and minute (their earliest time). */
export interface ScheduledCounts {
  contractId: string;
  priority: number;
  /** The earliest send time of this minute's messages (epoch ms). */
  at: number;
  count: number;
}

export interface BacklogSummary {
  /** The `now` the counts are relative to (due vs later). */
  at: number;
  /** Every waiting message. */
  total: number;
  /** Creation time of the oldest waiting message, null when nothing waits. */
  oldestCreatedAt: number | null;
  /** By contract and lane, ordered by contract then lane. */
  lanes: LaneCounts[];
  /** By portal (null: sent from the CLI), most waiting first. */
  portals: { portalId: string | null; waiting: number; oldestCreatedAt: number }[];
  /** By campaign (messages of a campaign only), most waiting first. */
  campaigns: { campaignId: string; waiting: number }[];
  /** Held messages by reason. */
  held: HeldCounts[];
  /** Queued messages due later, in time order. */
  scheduled: ScheduledCounts[];
}

const WAITING_KEYS = ['contract_id', 'priority', 'portal_id', 'campaign_id', 'alpha_name'] as const;

/**
 * The queries of backlogSummary, built but not run (the store test explains them). Each
 * names one waiting state with `=`, which is what lets both planners use a partial index.
 */
export function backlogQueries(conn: Connection, now: number) {
  const db = conn.db;
  const queued = db
    .selectFrom('messages')
    .select((eb) => [
      ...WAITING_KEYS,
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(eb.case().when('run_at', '<=', now).then(1).else(0).end()).as('due'),
      eb.fn.min<number>('created_at').as('oldest'),
    ])
    .where('state', '=', 'queued')
    .groupBy([...WAITING_KEYS]);
  const held = db
    .selectFrom('messages')
    .select((eb) => [
      ...WAITING_KEYS,
      'hold_reason',
      eb.fn.countAll<number>().as('n'),
      eb.fn.min<number>('created_at').as('oldest'),
    ])
    .where('state', '=', 'held')
    .groupBy([...WAITING_KEYS, 'hold_reason']);
  const sending = db
    .selectFrom('messages')
    .select((eb) => [
      ...WAITING_KEYS,
      eb.fn.countAll<number>().as('n'),
      eb.fn.min<number>('created_at').as('oldest'),
    ])
    .where('state', '=', 'sending')
    .groupBy([...WAITING_KEYS]);
  // Quiet hours put a whole evening's marketing on one send time, so minutes are few.
  const minute = sql<number>`run_at / 60000`;
  const scheduled = db
    .selectFrom('messages')
    .select((eb) => [
      'contract_id',
      'priority',
      eb.fn.min<number>('run_at').as('at'),
      eb.fn.countAll<number>().as('n'),
    ])
    .where('state', '=', 'queued')
    .where('run_at', '>', now)
    .groupBy(['contract_id', 'priority', minute]);
  return { queued, held, sending, scheduled } satisfies Record<string, Compilable>;
}

interface GroupRow {
  contract_id: string;
  priority: number;
  portal_id: string | null;
  campaign_id: string | null;
  alpha_name: string;
  n: number | string;
  oldest: number | string | null;
}

/**
 * How much work waits, where and why: by contract and lane (due now, scheduled later, held,
 * sending), by portal, by campaign, held by reason, the scheduled send times, and the oldest
 * waiting message. Reads only waiting rows (see the module comment).
 */
export async function backlogSummary(conn: Connection, now: number): Promise<BacklogSummary> {
  const q = backlogQueries(conn, now);
  const [queued, held, sending, scheduled] = await Promise.all([
    q.queued.execute(),
    q.held.execute(),
    q.sending.execute(),
    q.scheduled.execute(),
  ]);
  const lanes = new Map<string, LaneCounts>();
  const portals = new Map<string | null, { waiting: number; oldestCreatedAt: number }>();
  const campaigns = new Map<string, number>();
  let total = 0;
  let oldest: number | null = null;

  const add = (r: GroupRow, into: 'due' | 'held' | 'sending', due = 0) => {
    const n = Number(r.n);
    const first = Number(r.oldest);
    const priority = Number(r.priority);
    const key = `${r.contract_id}\u0000${priority}`;
    let lane = lanes.get(key);
    if (!lane) {
      lane = {
        contractId: r.contract_id,
        priority,
        due: 0,
        later: 0,
        held: 0,
        sending: 0,
        queuedByAlpha: {},
        oldestCreatedAt: first,
      };
      lanes.set(key, lane);
    }
    if (into === 'due') {
      lane.due += due;
      lane.later += n - due;
      lane.queuedByAlpha[r.alpha_name] = (lane.queuedByAlpha[r.alpha_name] ?? 0) + n;
    } else lane[into] += n;
    lane.oldestCreatedAt = Math.min(lane.oldestCreatedAt, first);
    const p = portals.get(r.portal_id) ?? { waiting: 0, oldestCreatedAt: first };
    p.waiting += n;
    p.oldestCreatedAt = Math.min(p.oldestCreatedAt, first);
    portals.set(r.portal_id, p);
    if (r.campaign_id !== null)
      campaigns.set(r.campaign_id, (campaigns.get(r.campaign_id) ?? 0) + n);
    total += n;
    oldest = oldest === null ? first : Math.min(oldest, first);
  };
  for (const r of queued) add(r, 'due', Number(r.due ?? 0));
  for (const r of held) add(r, 'held');
  for (const r of sending) add(r, 'sending');

  const heldByReason = new Map<string, HeldCounts>();
  for (const r of held) {
    const priority = Number(r.priority);
    const key = [r.contract_id, priority, r.alpha_name, r.hold_reason].join('\u0000');
    const h = heldByReason.get(key) ?? {
      contractId: r.contract_id,
      priority,
      alphaName: r.alpha_name,
      reason: r.hold_reason,
      count: 0,
    };
    h.count += Number(r.n);
    heldByReason.set(key, h);
  }

  return {
    at: now,
    total,
    oldestCreatedAt: oldest,
    lanes: [...lanes.values()].sort(
      (a, b) => a.contractId.localeCompare(b.contractId) || a.priority - b.priority,
    ),
    portals: [...portals]
      .map(([portalId, p]) => ({ portalId, ...p }))
      .sort((a, b) => b.waiting - a.waiting),
    campaigns: [...campaigns]
      .map(([campaignId, waiting]) => ({ campaignId, waiting }))
      .sort((a, b) => b.waiting - a.waiting),
    held: [...heldByReason.values()],
    scheduled: scheduled
      .map((r) => ({
        contractId: r.contract_id,
        priority: Number(r.priority),
        at: Number(r.at),
        count: Number(r.n),
      }))
      .sort((a, b) => a.at - b.at),
  };
}
