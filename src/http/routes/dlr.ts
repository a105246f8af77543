import type { FastifyInstance } from 'fastify';
import { type ApplyReportDeps, applyReport } from '../../core/applyReport.js';
import { parseDeliveryReports } from '../../mts/report.js';
import { type Connection, getPortalByDlrKey } from '../../store/index.js';
import type { Metrics } from '../metrics.js';

export interface DlrRouteDeps extends ApplyReportDeps {
  metrics: Metrics;
  /** Called when a report changed a message (wakes the status pusher). */
  onChange?: () => void;
  /**
   * Commits the reports of one POST (group commit: concurrent POSTs share a transaction);
   * default: each statement on its own.
   */
  commit?: <T>(fn: (conn: Connection) => Promise<T>) => Promise<T>;
}

/**
 * `POST /mts/dlr/:key` — MTS delivery reports (one object or an array). Replies 200 only after
 * every report is committed, so a crash before the reply makes MTS send it again. An unknown
 * message id is answered 200 (MTS must not retry forever) and logged.
 */
export function dlrRoutes(app: FastifyInstance, deps: DlrRouteDeps): void {
  // A portal's callback key never changes: remember the ones seen (a report per message
  // would otherwise cost a portal read each). Unknown keys are not cached.
  const known = new Map<string, { id: string }>();
  const portalByKey = async (key: string) => {
    const hit = known.get(key);
    if (hit) return hit;
    const p = await getPortalByDlrKey(deps.conn, key);
    if (p && known.size < 10_000) known.set(key, { id: p.id });
    return p;
  };
  app.post<{ Params: { key: string } }>('/mts/dlr/:key', async (req, reply) => {
    const portal = await portalByKey(req.params.key);
    if (!portal)
      return reply
        .code(404)
        .send({ error: 'unknown_key', message: 'No portal has this callback key.' });
    if (req.body == null || typeof req.body !== 'object') {
      deps.metrics.dlrs.inc({ kind: 'invalid' });
      return reply.code(400).send({
        error: 'invalid_body',
        message: 'Expected a JSON delivery report or an array of them.',
      });
    }
    const { reports, errors } = parseDeliveryReports(req.body);
    if (errors.length) {
      deps.metrics.dlrs.inc({ kind: 'invalid' }, errors.length);
      req.log.warn({ errors }, 'invalid delivery report(s) ignored');
    }
    if (reports.length === 0)
      return reply
        .code(400)
        .send({ error: 'invalid_body', message: errors.join('; ') || 'no report in body' });
    const commit = deps.commit ?? ((fn) => fn(deps.conn));
    const outcomes = await commit(async (conn) => {
      const out = [];
      for (const r of reports)
        out.push((await applyReport({ ...deps, conn }, r, 'dlr', portal.id)).outcome);
      return out;
    });
    let changed = false;
    for (const [i, r] of reports.entries()) {
      const outcome = outcomes[i];
      deps.metrics.dlrs.inc({ kind: outcome === 'unknown' ? 'unknown_id' : outcome });
      if (outcome === 'unknown')
        req.log.warn(
          { mtsMessageId: r.messageId, extraId: r.extraId },
          'delivery report for an unknown message',
        );
      if (outcome === 'changed') changed = true;
    }
    if (changed) deps.onChange?.();
    return reply.code(200).send({ ok: true, accepted: reports.length, invalid: errors.length });
  });
}
