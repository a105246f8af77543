import type { FastifyInstance } from 'fastify';
import { timingSafeTokenEqual } from '../../bitrix24/inbound.js';
import type { PortalAccessProblem } from '../../bitrix24/limits.js';
import { type Connection, ping } from '../../store/index.js';
import type { Metrics } from '../metrics.js';
import { bearerToken } from '../session.js';

export interface HealthDeps {
  conn: Connection;
  metrics: Metrics;
  /** Extra gauges refreshed on each scrape (queue depth…). */
  beforeScrape?: () => Promise<void>;
  /** What holds sending back (paused MTS accounts, held alpha names), shown by /readyz. */
  sending?: () => unknown;
  /** How long `/readyz` waits for the database before it answers 503 (default 3000 ms). */
  probeTimeoutMs?: number;
  /**
   * Portals whose Bitrix24 REST API refuses us (a plan without REST). Shown on `/readyz`
   * under `bitrix24`; they do not make it fail: this instance still takes messages.
   */
  b24Access?: () => PortalAccessProblem[];
  /** METRICS_TOKEN: when set, a scrape must send it as a bearer token. */
  metricsToken?: string | undefined;
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
   * database cannot be reached (PostgreSQL down, the SQLite file gone). Portals whose REST
   * API is unavailable are listed under `bitrix24` either way.
   */
  app.get('/readyz', async (_req, reply) => {
    const problems = deps.b24Access?.() ?? [];
    const bitrix24 = problems.length
      ? {
          bitrix24: problems.map((p) => ({
            portal: p.portalId,
            ...(p.domain ? { domain: p.domain } : {}),
            problem: p.problem,
            message: p.message,
            since: new Date(p.since).toISOString(),
          })),
        }
      : {};
    try {
      await within(ping(deps.conn), deps.probeTimeoutMs ?? 3000, 'the database');
    } catch (err) {
      return reply.code(503).send({
        ok: false,
        database: deps.conn.caps.name,
        reason: `database: ${(err as Error).message}`,
        ...bitrix24,
      });
    }
    // Intake works while sending is paused (messages wait in the queue): still ready, with why.
    return { ok: true, database: deps.conn.caps.name, ...bitrix24, sending: deps.sending?.() };
  });

  app.get('/metrics', async (req, reply) => {
    const token = deps.metricsToken;
    if (token) {
      const sent = bearerToken(req.headers.authorization);
      if (sent === undefined || !timingSafeTokenEqual(sent, token))
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send({ error: 'unauthorized', message: 'Send Authorization: Bearer <METRICS_TOKEN>.' });
    }
    await deps.beforeScrape?.();
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
