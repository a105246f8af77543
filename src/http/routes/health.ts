import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Connection } from '../../store/dialects/types.js';
import type { Metrics } from '../metrics.js';

export interface HealthDeps {
  conn: Connection;
  metrics: Metrics;
  /** Extra gauges refreshed on each scrape (queue depth…). */
  beforeScrape?: () => Promise<void>;
  /** How long `/readyz` waits for the database before it answers 503 (default 3000 ms). */
  probeTimeoutMs?: number;
}

/** Resolves with `p`, or rejects with `what timed out` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', async () => ({ ok: true }));

  /**
   * Ready = this instance can commit what it acknowledges. 503 with the reason while the
   * database cannot be reached (PostgreSQL down, the SQLite file gone).
   */
  app.get('/readyz', async (_req, reply) => {
    try {
      await within(
        sql`select 1`.execute(deps.conn.db),
        deps.probeTimeoutMs ?? 3000,
        'the database',
      );
    } catch (err) {
      return reply.code(503).send({
        ok: false,
        database: deps.conn.caps.name,
        reason: `database: ${(err as Error).message}`,
      });
    }
    return { ok: true, database: deps.conn.caps.name };
  });

  app.get('/metrics', async (_req, reply) => {
    await deps.beforeScrape?.();
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
