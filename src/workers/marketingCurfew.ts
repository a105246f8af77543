import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SenderFor } from '../core/senderChoice.js';
import { nextAllowedTime } from '../domain/quietHours.js';
import { type Connection, deferDueMarketing, listPortals, type Portal } from '../store/index.js';
import { makeSingletonLoop } from './singletonLoop.js';

export interface MarketingCurfewOptions {
  conn: Connection;
  clock: Clock;
  logger: Logger;
  holder: string;
  senderFor: SenderFor;
  /** Pause between passes (default 5 s); quiet hours are applied that much ahead. */
  tickMs?: number;
}

/**
 * Marketing quiet hours at send time. Intake already schedules marketing that arrives in
 * quiet hours for the window's end; this loop catches what was queued before the window and
 * is still waiting when it begins (a CRM-marketing burst or a campaign draining into the
 * evening): each portal's due marketing moves to the window's end. It looks one pass ahead,
 * so nothing goes out more than a moment into the window; transactional SMS are untouched.
 */
export function makeMarketingCurfew(opts: MarketingCurfewOptions) {
  const tickMs = opts.tickMs ?? 5000;
  const log = opts.logger.child({ worker: 'marketing-curfew' });

  async function tick(): Promise<number> {
    const ahead = opts.clock.now() + tickMs;
    let moved = 0;
    // Messages without a portal (`send --marketing`) and each active portal's, with its row
    // (senderFor need not read it again).
    const scopes: (Portal | null)[] = [
      null,
      ...(await listPortals(opts.conn)).filter((p) => p.status === 'active'),
    ];
    for (const portal of scopes) {
      const portalId = portal?.id ?? null;
      const { quietHours } = await opts.senderFor(portal, 'marketing');
      const until = nextAllowedTime(ahead, quietHours);
      if (until === ahead) continue;
      const n = await deferDueMarketing(opts.conn, portalId, until, opts.clock.now());
      if (n > 0) {
        moved += n;
        log.info(
          { portalId, count: n, until: new Date(until).toISOString() },
          'marketing quiet hours: waiting messages held until the window ends',
        );
      }
    }
    return moved;
  }

  const loop = makeSingletonLoop({
    conn: opts.conn,
    clock: opts.clock,
    logger: log,
    name: 'marketing-curfew',
    holder: opts.holder,
    tickMs,
    tick,
  });
  return { ...loop, tick };
}

export type MarketingCurfew = ReturnType<typeof makeMarketingCurfew>;
