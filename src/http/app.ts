import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import qs from 'qs';
import { BaseError } from '../errors.js';
import { isDatabaseUnavailable } from '../store/index.js';

/** A caller's X-Request-Id is kept when it is this: no spaces, quotes or control characters. */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export interface AppOptions {
  /** Largest accepted body in bytes (BODY_LIMIT, default 256 KiB). */
  bodyLimit: number;
  logger: FastifyServerOptions['loggerInstance'];
}

/**
 * The Fastify instance with what every route shares: form bodies with PHP-style nested keys
 * (`auth[access_token]`, `bindings[0][OWNER_ID]`), one error handler that hides internals on
 * 5xx, and JSON 404s. Routes are registered by the caller.
 */
export function createHttpApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimit,
    // Per-request info lines would drown the log at intake rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: true,
    return503OnClosing: true,
    // Every request has an id: the caller's X-Request-Id when it is a plain token (a proxy's
    // or a load balancer's), else a new one. It is in the request's log lines (`reqId`), in
    // the answer's X-Request-Id, and in the history of a message the request brought.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      try {
        // Bounded: a hostile body must not build huge arrays or deep objects.
        done(
          null,
          qs.parse(body as string, {
            depth: 5,
            arrayLimit: 100,
            parameterLimit: 2000,
            allowPrototypes: false,
          }),
        );
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );

  // Every route reads a query parameter as one string: `?token=a&token=b` (an array after
  // parsing) is ambiguous input, refused before any handler can trip over it.
  app.addHook('preValidation', async (req, reply) => {
    const query = req.query;
    if (!query || typeof query !== 'object') return;
    for (const [key, value] of Object.entries(query)) {
      if (typeof value !== 'string') {
        return reply.code(400).send({
          error: 'invalid_request',
          message: `query parameter "${key}" must be given once, as a plain value`,
        });
      }
    }
  });

  app.setErrorHandler(
    (err: Error & { statusCode?: number; validation?: unknown; code?: string }, req, reply) => {
      if (isDatabaseUnavailable(err)) {
        // Nothing was committed: say so with a 503, never an acknowledgement.
        req.log.error({ err, url: req.url }, 'database unavailable');
        return reply.code(503).send({
          error: 'database_unavailable',
          message: 'The database is unavailable; nothing was stored. See /readyz.',
        });
      }
      if (err instanceof BaseError && err.action === 'permanent') {
        return reply.code(400).send({ error: err.code, message: err.message });
      }
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) {
        req.log.error({ err, url: req.url }, 'request failed');
        return reply
          .code(status)
          .send({ error: 'internal_error', message: 'Internal error; see the service log.' });
      }
      return reply.code(status).send({ error: err.code ?? 'bad_request', message: err.message });
    },
  );

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `${req.method} ${req.url} is not a route of this service`,
    }),
  );
  return app;
}
