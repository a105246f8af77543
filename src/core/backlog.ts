import { minskDateTime } from '../domain/minskTime.js';
import { effectivePace } from '../domain/pace.js';
import { isQuietTime, type QuietWindow } from '../domain/quietHours.js';
import {
  type AlphaHold,
  type BacklogSummary,
  backlogSummary,
  type Connection,
  type Contract,
  DEFAULT_CONTRACT,
  type LaneCounts,
  listContracts,
  listHolds,
} from '../store/index.js';

/** Why a waiting message waits; each waiting message counts under exactly one. */
export type BacklogReason =
  | 'sending'
  | 'held'
  | 'paused'
  | 'no_contract'
  | 'quiet_hours'
  | 'scheduled'
  | 'rate';

/** Lanes by `priority`: 0 transactional (card, robot, test), 1 marketing and campaigns. */
export type LaneName = 'transactional' | 'marketing';

export function laneName(priority: number): LaneName {
  return priority === 0 ? 'transactional' : 'marketing';
}

/** One reason some messages of a lane wait, for a person. */
export interface BacklogExplanation {
  reason: BacklogReason;
  /** Messages waiting for this reason. */
  count: number;
  /** What holds them, in words. */
  text: string;
  /** What to do about it; empty when nothing needs doing. */
  action: string;
  /** When it ends by itself (ISO 8601), null when only an administrator (or MTS) ends it. */
  until: string | null;
}

/** The waiting work of one MTS contract in one lane. */
export interface LaneBacklog {
  contract: string;
  lane: LaneName;
  waiting: number;
  /** Queued and due now: waiting for the contract's rate. */
  dueNow: number;
  /** Queued for a later send time (quiet hours, scheduled sends). */
  scheduledLater: number;
  held: number;
  sending: number;
  /** Waiting messages by reason (every reason present, zeros included). */
  byReason: Record<BacklogReason, number>;
  /** Messages per second the contract sends now: contracted rate × current pace; null without a contract. */
  rate: number | null;
  /**
   * Seconds until the last waiting message of this lane is sent: transactional first, at
   * `rate`, each message no earlier than its send time. Null while some are blocked without a
   * known end (a paused contract, a held alpha name).
   */
  etaSeconds: number | null;
  /** The same for the messages not blocked (equals etaSeconds when none is); null when all are. */
  etaUnblockedSeconds: number | null;
  reasons: BacklogExplanation[];
}

export interface Backlog {
  /** When this was read (ISO 8601). */
  at: string;
  waiting: number;
  oldestCreatedAt: string | null;
  oldestAgeSeconds: number | null;
  /** By contract, transactional lane first. */
  lanes: LaneBacklog[];
  portals: { portal: string | null; waiting: number }[];
  campaigns: { campaign: string; waiting: number }[];
  held: {
    contract: string;
    lane: LaneName;
    alphaName: string;
    reason: string | null;
    count: number;
  }[];
  /** Every reason of every lane as one line of words (logs, the CLI, the admin page). */
  lines: string[];
}

/** The live state of the contracts and holds the backlog is explained with. */
export type ContractState = Pick<
  Contract,
  | 'id'
  | 'rate'
  | 'pace'
  | 'pace_at'
  | 'paused_until'
  | 'pause_reason'
  | 'pause_code'
  | 'paused_since'
>;
export type HoldState = Pick<AlphaHold, 'contract_id' | 'alpha_name' | 'reason' | 'since'>;

export interface BacklogInput {
  summary: BacklogSummary;
  contracts: readonly ContractState[];
  holds: readonly HoldState[];
  /** MARKETING_QUIET_HOURS: a marketing send time at the end of a quiet stretch counts as quiet hours. */
  quietHours: QuietWindow | null;
  now: number;
}

const REASONS: readonly BacklogReason[] = [
  'sending',
  'held',
  'paused',
  'no_contract',
  'quiet_hours',
  'scheduled',
  'rate',
];

const iso = (ms: number) => new Date(ms).toISOString();
const at = (ms: number) => `${minskDateTime(ms)} Minsk time`;

/** What a pause code means and what to do, in words (codes from src/mts/errors.ts). */
function pauseAdvice(code: string | null): { what: string; todo: string } {
  const resumes = 'sending resumes by itself once a probe succeeds';
  switch (code) {
    case 'MTS_10229':
    case 'MTS_INSUFFICIENT_BALANCE':
      return { what: 'balance exhausted', todo: `top up the MTS account; ${resumes}` };
    case 'MTS_1130':
    case 'MTS_UNAUTHORIZED':
      return {
        what: 'credentials refused',
        todo: `check MTS_LOGIN/MTS_PASSWORD (or the portal's --mts-* settings); ${resumes}, or at once when they change`,
      };
    case 'MTS_10222':
      return { what: 'connection not active', todo: `ask MTS support to activate it; ${resumes}` };
    case 'MTS_NOT_FOUND':
      return { what: 'account not found', todo: `check MTS_API_URL and MTS_CLIENT_ID; ${resumes}` };
    default:
      return { what: code ?? 'refused', todo: `see the reason; ${resumes}` };
  }
}

/** A marketing send time that is the end of a quiet stretch (that is what intake gives them). */
function endsQuietHours(t: number, quiet: QuietWindow | null): boolean {
  return quiet !== null && isQuietTime(t - 1, quiet) && !isQuietTime(t, quiet);
}

/**
 * When each lane's last message is sent, in a fluid model of one contract: it sends `rate`
 * messages a second, the transactional lane whenever it has any (it goes first), each message
 * no earlier than its send time. Returns seconds from `now` per priority.
 */
export function drainSeconds(
  arrivals: readonly { priority: number; at: number; count: number }[],
  rate: number,
  now: number,
): Map<number, number> {
  const out = new Map<number, number>();
  const sorted = [...arrivals].filter((a) => a.count > 0).sort((a, b) => a.at - b.at);
  for (const priority of new Set(sorted.map((a) => a.priority))) {
    // Lower lanes never delay a lane; higher ones do, including those arriving after its own
    // last message arrived, as long as it is not done by then.
    const ahead = sorted.filter((a) => a.priority <= priority);
    const last = Math.max(...ahead.filter((a) => a.priority === priority).map((a) => a.at));
    let t = now;
    let queue = 0;
    for (const a of ahead) {
      const start = Math.max(a.at, now);
      if (start > last && start >= t + (queue / rate) * 1000) break;
      queue = Math.max(0, queue - ((start - t) / 1000) * rate);
      t = Math.max(t, start);
      queue += a.count;
    }
    out.set(priority, (t - now) / 1000 + queue / rate);
  }
  return out;
}

/** The backlog in plain facts: counts by reason, ETAs, and what holds it in words. */
export function explainBacklog(input: BacklogInput): Backlog {
  const { summary, now, quietHours } = input;
  const contracts = new Map(input.contracts.map((c) => [c.id, c]));
  const holdsOf = (contractId: string) =>
    new Map(input.holds.filter((h) => h.contract_id === contractId).map((h) => [h.alpha_name, h]));
  const byContract = new Map<string, LaneCounts[]>();
  for (const l of summary.lanes)
    byContract.set(l.contractId, [...(byContract.get(l.contractId) ?? []), l]);
  const lanes: LaneBacklog[] = [];

  for (const [contractId, counts] of byContract) {
    const c = contracts.get(contractId);
    const holds = holdsOf(contractId);
    const rate = c ? c.rate * effectivePace(c.pace, c.pace_at, now) : null;
    const paused = c !== undefined && c.paused_since !== null;
    const built = counts.map((l) => laneFacts(l, c, holds, rate, paused));
    // The ETA of the unblocked messages, both lanes sharing the contract's rate.
    if (rate !== null && !paused) {
      const arrivals = built.flatMap(({ lane, counts: l, blockedLater }) => [
        { priority: l.priority, at: now, count: lane.byReason.rate + lane.byReason.sending },
        ...summary.scheduled
          .filter((s) => s.contractId === contractId && s.priority === l.priority)
          .map((s) => ({ priority: l.priority, at: s.at, count: s.count })),
        // Held-name messages scheduled later are not coming: take them off the last minutes.
        { priority: l.priority, at: now, count: -blockedLater },
      ]);
      const eta = drainSeconds(mergeNegative(arrivals), rate, now);
      for (const { lane, counts: l } of built) {
        const unblocked = lane.waiting - lane.byReason.held;
        lane.etaUnblockedSeconds = unblocked > 0 ? round(eta.get(l.priority) ?? 0) : null;
        lane.etaSeconds = lane.byReason.held > 0 ? null : (lane.etaUnblockedSeconds ?? 0);
      }
    }
    for (const { lane, counts: l } of built) {
      lane.reasons = explain(lane, l, c, holds, summary, quietHours, now);
      lanes.push(lane);
    }
  }

  const oldest = summary.oldestCreatedAt;
  return {
    at: iso(now),
    waiting: summary.total,
    oldestCreatedAt: oldest === null ? null : iso(oldest),
    oldestAgeSeconds: oldest === null ? null : round(Math.max(0, now - oldest) / 1000),
    lanes,
    portals: summary.portals.map((p) => ({ portal: p.portalId, waiting: p.waiting })),
    campaigns: summary.campaigns.map((c) => ({ campaign: c.campaignId, waiting: c.waiting })),
    held: summary.held.map((h) => ({
      contract: h.contractId,
      lane: laneName(h.priority),
      alphaName: h.alphaName,
      reason: h.reason,
      count: h.count,
    })),
    lines: lanes.flatMap((l) =>
      l.reasons.map(
        (r) => `${l.contract}/${l.lane}: ${r.count} ${r.text}${r.action ? ` — ${r.action}` : ''}`,
      ),
    ),
  };
}

const round = (s: number) => Math.round(s * 10) / 10;

/** Negative counts (blocked messages scheduled later) come off the latest arrivals of their lane. */
function mergeNegative(
  arrivals: { priority: number; at: number; count: number }[],
): { priority: number; at: number; count: number }[] {
  const out = arrivals.filter((a) => a.count > 0).map((a) => ({ ...a }));
  for (const neg of arrivals.filter((a) => a.count < 0)) {
    let left = -neg.count;
    for (const a of out.filter((x) => x.priority === neg.priority).sort((x, y) => y.at - x.at)) {
      const take = Math.min(left, a.count);
      a.count -= take;
      left -= take;
      if (left === 0) break;
    }
  }
  return out;
}

/** One lane's counts sorted into reasons (each message under exactly one). */
function laneFacts(
  l: LaneCounts,
  c: ContractState | undefined,
  holds: Map<string, HoldState>,
  rate: number | null,
  paused: boolean,
): { lane: LaneBacklog; counts: LaneCounts; blockedLater: number } {
  const byReason = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<BacklogReason, number>;
  byReason.sending = l.sending;
  // Queued messages of a held name are skipped by claims just like held ones.
  let heldQueued = 0;
  for (const [alpha, n] of Object.entries(l.queuedByAlpha)) if (holds.has(alpha)) heldQueued += n;
  byReason.held = l.held + heldQueued;
  const heldDue = Math.min(heldQueued, l.due);
  const blockedLater = heldQueued - heldDue;
  let due = l.due - heldDue;
  let later = l.later - blockedLater;
  if (!c) {
    byReason.no_contract = due + later;
    due = later = 0;
  } else if (paused) {
    byReason.paused = due + later;
    due = later = 0;
  }
  byReason.rate = due;
  // Split into quiet hours and scheduled by the send times (explain() reads the minutes).
  byReason.scheduled = later;
  const waiting = l.due + l.later + l.held + l.sending;
  return {
    counts: l,
    blockedLater,
    lane: {
      contract: l.contractId,
      lane: laneName(l.priority),
      waiting,
      dueNow: l.due,
      scheduledLater: l.later,
      held: l.held,
      sending: l.sending,
      byReason,
      rate: rate === null ? null : round(rate),
      etaSeconds: null,
      etaUnblockedSeconds: null,
      reasons: [],
    },
  };
}

/** The lane's reasons in words, and the quiet-hours share of its later messages. */
function explain(
  lane: LaneBacklog,
  counts: LaneCounts,
  c: ContractState | undefined,
  holds: Map<string, HoldState>,
  summary: BacklogSummary,
  quiet: QuietWindow | null,
  now: number,
): BacklogExplanation[] {
  const out: BacklogExplanation[] = [];
  const r = lane.byReason;
  const priority = lane.lane === 'transactional' ? 0 : 1;
  if (r.scheduled > 0) {
    const minutes = summary.scheduled.filter(
      (s) => s.contractId === lane.contract && s.priority === priority,
    );
    const quietMinutes = minutes.filter(
      (s) => lane.lane === 'marketing' && endsQuietHours(s.at, quiet),
    );
    const inQuiet = Math.min(
      r.scheduled,
      quietMinutes.reduce((n, s) => n + s.count, 0),
    );
    r.quiet_hours = inQuiet;
    r.scheduled -= inQuiet;
    const firstQuiet = quietMinutes[0]?.at;
    if (inQuiet > 0 && firstQuiet !== undefined)
      out.push({
        reason: 'quiet_hours',
        count: inQuiet,
        text: `marketing message(s) wait for the end of quiet hours (MARKETING_QUIET_HOURS or the portal's own) at ${at(firstQuiet)}`,
        action: 'nothing to do: they go out then',
        until: iso(firstQuiet),
      });
    const firstOther = minutes.find((s) => !quietMinutes.includes(s))?.at ?? minutes[0]?.at;
    if (r.scheduled > 0 && firstOther !== undefined)
      out.push({
        reason: 'scheduled',
        count: r.scheduled,
        text: `message(s) scheduled for later, the first at ${at(firstOther)}`,
        action: 'nothing to do: each goes out at its time',
        until: iso(minutes.at(-1)?.at ?? firstOther),
      });
  }
  if (r.paused > 0 && c) {
    const advice = pauseAdvice(c.pause_code);
    out.push({
      reason: 'paused',
      count: r.paused,
      text: `wait: MTS account "${c.id}" paused since ${at(c.paused_since ?? now)}: ${advice.what} (${c.pause_reason ?? 'no reason recorded'}); next probe at ${at(c.paused_until ?? now)}`,
      action: advice.todo,
      until: null,
    });
  }
  if (r.no_contract > 0)
    out.push({
      reason: 'no_contract',
      count: r.no_contract,
      text: `wait on MTS contract "${lane.contract}", which no longer exists`,
      action: `give the portal a contract again (portal set … --mts-* or --mts-default); they stay queued meanwhile`,
      until: null,
    });
  if (r.held > 0) {
    const names = new Set([
      ...summary.held
        .filter((h) => h.contractId === lane.contract && h.priority === counts.priority)
        .map((h) => h.alphaName),
      ...Object.keys(counts.queuedByAlpha).filter((n) => holds.has(n)),
    ]);
    const since = Math.min(...[...names].map((n) => holds.get(n)?.since ?? now));
    out.push({
      reason: 'held',
      count: r.held,
      text: `held: MTS refuses the alpha name ${[...names].map((n) => JSON.stringify(n)).join(', ')} (since ${at(since)})`,
      action:
        'register the alpha name with MTS or set a registered one (MTS_SENDER_MARKETING, MTS_SENDER, portal set --sender…); they go out by themselves once MTS accepts a probe',
      until: null,
    });
  }
  if (r.rate > 0)
    out.push({
      reason: 'rate',
      count: r.rate,
      text: `due now, waiting for the contract's rate (${lane.rate ?? '?'} per second${lane.lane === 'marketing' ? ', after transactional SMS' : ''})`,
      action:
        lane.etaUnblockedSeconds !== null
          ? `done in about ${duration(lane.etaUnblockedSeconds)}`
          : '',
      until: lane.etaUnblockedSeconds !== null ? iso(now + lane.etaUnblockedSeconds * 1000) : null,
    });
  if (r.sending > 0)
    out.push({
      reason: 'sending',
      count: r.sending,
      text: 'being sent right now',
      action: '',
      until: null,
    });
  return out;
}

/** `1 h 05 min`, `3 min 20 s`, `12 s`. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A contract sending at its full rate, neither paused nor slowed. */
export function runningContract(id: string, rate: number): ContractState {
  return {
    id,
    rate,
    pace: 1,
    pace_at: 0,
    paused_until: null,
    pause_reason: null,
    pause_code: null,
    paused_since: null,
  };
}

/**
 * Reads the waiting work and the contracts' state, and explains them (metrics, API, CLI).
 * `defaultRate` (MTS_RATE_LIMIT) stands in for the `default` contract before a service has
 * written it (a fresh database read by the CLI).
 */
export async function readBacklog(deps: {
  conn: Connection;
  now: number;
  quietHours: QuietWindow | null;
  defaultRate?: number;
}): Promise<Backlog> {
  const [summary, stored, holds] = await Promise.all([
    backlogSummary(deps.conn, deps.now),
    listContracts(deps.conn),
    listHolds(deps.conn),
  ]);
  const contracts: ContractState[] = [...stored];
  if (deps.defaultRate !== undefined && !stored.some((c) => c.id === DEFAULT_CONTRACT))
    contracts.push(runningContract(DEFAULT_CONTRACT, deps.defaultRate));
  return explainBacklog({ summary, contracts, holds, quietHours: deps.quietHours, now: deps.now });
}
