import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Connection } from '../../store/dialects/types.js';
import type { Metrics } from '../metrics.js';

export interface HealthDeps {
  conn: Connection;
  metrics: Metrics;
  /** Extra gauges refreshed on each scrape (queue depth…). */
  beforeScrape?: () => Promise<void>;
  /** What holds sending back (paused MTS accounts, held alpha names), shown by /readyz. */
  sending?: () => unknown;
}

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_req, reply) => {
    try {
      await sql`select 1`.execute(deps.conn.db);
    } catch (err) {
      return reply.code(503).send({ ok: false, reason: `database: ${(err as Error).message}` });
    }
    // Intake works while sending is paused (messages wait in the queue): still ready, with why.
    return { ok: true, database: deps.conn.caps.name, sending: deps.sending?.() };
  });

  app.get('/metrics', async (_req, reply) => {
    await deps.beforeScrape?.();
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
