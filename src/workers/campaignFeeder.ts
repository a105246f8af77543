import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SenderChoice } from '../core/intake.js';
import { intakeSms } from '../core/intake.js';
import type { SenderFor } from '../core/senderChoice.js';
import { nextAllowedTime } from '../domain/quietHours.js';
import {
  addCampaignFed,
  type Campaign,
  type CampaignRecipient,
  type Connection,
  campaignInFlight,
  inTransaction,
  markRecipientFed,
  moveCampaign,
  pendingRecipients,
  runningCampaigns,
} from '../store/index.js';
import { makeSingletonLoop } from './singletonLoop.js';

/** Recipients per feeding transaction: ~2–3 ms of work, shorter than a rate slot. */
const FEED_CHUNK = 10;

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** CRM owner type ids of the records a campaign can target (timeline bindings). */
const OWNER_TYPE: Record<string, string> = { lead: '1', contact: '3' };

export interface CampaignFeederOptions {
  conn: Connection;
  clock: Clock;
  logger: Logger;
  holder: string;
  senderFor: SenderFor;
  /** SMS_MAX_PARTS. */
  maxParts: number;
  /** Seconds of sending at the contract's rate kept in the outbox per campaign (default 3). */
  windowSec?: number;
  /** Pause between passes (default 1 s): a started or resumed campaign begins within it. */
  tickMs?: number;
  /** A message was queued: wake the sender. */
  onQueued?: () => void;
}

/**
 * Moves running campaigns' recipients into the outbox, a few seconds of sending at a time,
 * under a lease (one instance feeds). Each chunk of FEED_CHUNK recipients is one transaction that inserts the
 * messages and marks their recipients `fed` — after a crash at any point every recipient is
 * either in the outbox exactly once or still pending, never both, never neither. Keeping
 * only a few seconds in the outbox is what lets a pause take effect at once (the unsent
 * rest is withdrawn, see core/campaigns) and lets quiet hours stop a campaign on time.
 * Campaign messages go in the marketing lane, so transactional SMS keep priority.
 */
export function makeCampaignFeeder(opts: CampaignFeederOptions) {
  const { conn, clock } = opts;
  const log = opts.logger.child({ worker: 'campaigns' });
  const windowSec = opts.windowSec ?? 3;

  /** One transaction: the recipients' messages inserted and their `fed` marks set, or nothing. */
  async function feedChunk(
    c: Campaign,
    choice: SenderChoice,
    part: CampaignRecipient[],
    now: number,
  ): Promise<number> {
    return inTransaction(conn, async (tx) => {
      if (!(await addCampaignFed(tx, c.id, part.length, now, { whileRunning: true }))) return 0;
      for (const r of part) {
        const ownerType = r.entity_type ? OWNER_TYPE[r.entity_type] : undefined;
        const { message } = await intakeSms(
          tx,
          {
            portalId: c.portal_id,
            b24MessageId: null,
            source: 'campaign',
            kind: 'marketing',
            to: r.phone ?? '',
            text: r.text ?? '',
            alphaName: c.alpha_name,
            quietHours: choice.quietHours,
            route: choice.route,
            campaignId: String(c.id),
            maxParts: opts.maxParts,
            bindings:
              c.timeline && ownerType && r.entity_id
                ? [{ OWNER_TYPE_ID: ownerType, OWNER_ID: String(r.entity_id) }]
                : null,
          },
          now,
        );
        if (!(await markRecipientFed(tx, c.id, r.seq, message.id))) {
          throw new Error(`campaign ${c.id}: recipient ${r.seq} was fed meanwhile`);
        }
      }
      return part.length;
    });
  }

  async function feedOne(c: Campaign): Promise<number> {
    const now = clock.now();
    if (c.send_at !== null && now < c.send_at) return 0;
    const choice = await opts.senderFor(c.portal_id, 'marketing');
    if (nextAllowedTime(now, choice.quietHours) > now) return 0;
    const rate = 1000 / choice.route.vtStepMs;
    const inFlight = await campaignInFlight(conn, c.id);
    const room = Math.max(10, Math.ceil(rate * windowSec)) - inFlight;
    if (room <= 0) return 0;
    const batch = await pendingRecipients(conn, c.id, room);
    if (batch.length === 0) {
      if (
        inFlight === 0 &&
        (await moveCampaign(conn, c.id, ['running'], 'done', now, { finished_at: now }))
      )
        log.info({ campaignId: c.id }, 'campaign done: every recipient has been sent');
      return 0;
    }
    let fed = 0;
    for (let i = 0; i < batch.length; i += FEED_CHUNK) {
      // Between two small transactions the event loop breathes: the sender's rate slots are
      // 10 ms apart at 100/s and one transaction of a second's worth (~25 ms) cost a few.
      if (i > 0) await yieldToEventLoop();
      const part = batch.slice(i, i + FEED_CHUNK);
      const n = await feedChunk(c, choice, part, now);
      fed += n;
      if (n > 0) opts.onQueued?.();
      if (n < part.length) break; // paused or cancelled meanwhile
    }
    return fed;
  }

  async function tick(signal: AbortSignal): Promise<number> {
    let total = 0;
    for (const c of await runningCampaigns(conn)) {
      if (signal.aborted) break;
      try {
        total += await feedOne(c);
      } catch (err) {
        log.error({ err, campaignId: c.id }, 'feeding the campaign failed; retrying next pass');
      }
    }
    return total;
  }

  const loop = makeSingletonLoop({
    conn,
    clock,
    logger: log,
    name: 'campaign-feeder',
    holder: opts.holder,
    tickMs: opts.tickMs ?? 1000,
    tick,
  });
  return { ...loop, tick };
}

export type CampaignFeeder = ReturnType<typeof makeCampaignFeeder>;
