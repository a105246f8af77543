import type { Connection } from '../store/index.js';

/**
 * How often an idle worker looks for work it was not woken for (default of the sender, the
 * status pusher and the robot worker). Alone on its database (SQLite) an instance is woken
 * by everything that creates work — a handler POST, a delivery report, a robot call — and
 * the scan only finds what a clock makes due (a scheduled send, the end of quiet hours, a
 * retry): once a second is enough, and an idle service costs a quarter of the CPU it did at
 * 250 ms. Sharing PostgreSQL, another instance may have taken the POST, so look 4 times a
 * second.
 */
export function idlePollMs(conn: Connection): number {
  return conn.caps.multiInstance ? 250 : 1000;
}
