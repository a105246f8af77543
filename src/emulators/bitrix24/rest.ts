import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from './apiError.js';
import { runBatch } from './batch.js';
import type { EmulatorCore } from './core.js';
import { allMethods } from './methods/index.js';
import type { MethodContext, MethodReply, Params } from './methods/types.js';
import { sendOutage } from './outage.js';
import { timeInfo } from './timeInfo.js';

function sendError(
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply.code(status).send({ error, error_description: description, ...extra });
}

/**
 * REST at `/rest/{method}` or `/rest/{method}.json`, GET or POST, parameters from the query
 * string and a JSON or PHP-style form body, `auth` among them. The checks run in the order
 * the answers below document: auth (`_includes/system-errors.md`), rate limit
 * (`limits.md`: 503 QUERY_LIMIT_EXCEEDED), method lookup, then the method.
 */
export function registerRest(app: FastifyInstance, core: EmulatorCore): void {
  const base = {
    state: core.state,
    crm: core.crm,
    clock: core.clock,
    clientId: core.identity.clientId,
  };

  const dispatch = (method: string, params: Params, ctx: MethodContext): MethodReply => {
    const now = core.clock.now();
    const until = core.faults.blockedMethods.get(method);
    if (until !== undefined && until !== null && until <= now)
      core.faults.blockedMethods.delete(method);
    else if (until !== undefined) {
      // limits.md: the block lifts by itself at operating_reset_at, which every answer's
      // `time` carries; a block without an end reports the usual 10-minute horizon.
      const time = timeInfo(now, now);
      throw new ApiError(
        429,
        'OPERATION_TIME_LIMIT',
        'Method is blocked due to operation time limit.',
        { time: { ...time, operating_reset_at: Math.ceil((until ?? now + 600_000) / 1000) } },
      );
    }
    if (method === 'batch')
      return runBatch(
        params,
        (m, p) => dispatch(m, p, ctx),
        () => core.clock.now(),
      );
    const handler = allMethods[method];
    if (!handler) throw new ApiError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
    return handler(params, ctx);
  };

  app.route({
    method: ['GET', 'POST'],
    url: '/rest/*',
    handler: async (req, reply) => {
      const started = core.clock.now();
      const raw = (req.params as { '*': string })['*'] ?? '';
      const method = raw
        .replace(/\/+$/, '')
        .replace(/\.json$/i, '')
        .toLowerCase();
      core.state.countRequest(method);
      if (core.faults.outage) return sendOutage(reply);

      const params: Params = {
        ...(req.query as Params),
        ...(req.body && typeof req.body === 'object' && !Array.isArray(req.body)
          ? (req.body as Params)
          : {}),
      };
      const auth = params.auth;
      delete params.auth;
      if (typeof auth !== 'string' || !auth) {
        return sendError(reply, 401, 'NO_AUTH_FOUND', 'Wrong authorization data');
      }
      const check = core.tokens.check(auth);
      if (check === 'expired')
        return sendError(reply, 401, 'expired_token', 'The access token provided has expired.');
      if (check === 'invalid')
        return sendError(reply, 401, 'invalid_token', 'The access token provided is invalid.');
      if (core.faults.restUnavailable) {
        // _includes/system-errors.md: 401 ACCESS_DENIED on a plan without REST.
        return sendError(
          reply,
          401,
          'ACCESS_DENIED',
          'REST is available only on commercial plans.',
        );
      }
      if (!core.bucket.tryAcquire(core.identity.memberId)) {
        return sendError(reply, 503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests');
      }
      try {
        const r = dispatch(method, params, {
          ...base,
          language: core.language,
          userId: core.tokens.userOf(auth) ?? 0,
        });
        return reply.send({
          result: r.result,
          ...(r.next !== undefined ? { next: r.next } : {}),
          ...(r.total !== undefined ? { total: r.total } : {}),
          time: timeInfo(started, core.clock.now()),
        });
      } catch (err) {
        if (err instanceof ApiError)
          return sendError(reply, err.status, err.error, err.description, err.extra);
        req.log.error({ err, method }, 'bitrix24 emulator: method crashed');
        return sendError(reply, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
      }
    },
  });
}
