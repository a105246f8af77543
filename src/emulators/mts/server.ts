import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { systemClock } from '../../clock.js';
import { silentLogger } from '../../log.js';
import { defaultErrorBody, type MtsRefusal, refusal } from './codes.js';
import type { DlrDispatcher } from './dlr.js';
import type { Latency, ResolvedMtsEmulatorOptions } from './options.js';
import type { EmulatedMessage, EmulatorState, RequestRecord } from './state.js';
import { isRefusal, splitBatch, type ValidSend, validateSimpleSend } from './validate.js';
import { statusAnswerBody } from './wireReports.js';

type AuthScheme = 'basic' | 'bearer';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook of the MTS emulator. */
    mtsAuth?: AuthScheme;
  }
}

function classify(url: string): RequestRecord['kind'] {
  if (/\/json2\/simple(\?|$)/.test(url)) return 'send';
  if (/\/json2\/batch\//.test(url)) return 'batch';
  if (/\/dr\//.test(url)) return 'status';
  return 'other';
}

function pickLatency(l: Latency, random: () => number): number {
  if (typeof l === 'number') return l;
  const [min, max] = l;
  return min + Math.round(random() * (max - min));
}

function checkAuth(
  header: string | undefined,
  o: ResolvedMtsEmulatorOptions,
): AuthScheme | undefined {
  if (!header) return undefined;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded === `${o.login}:${o.password}` ? 'basic' : undefined;
  }
  if (scheme?.toLowerCase() === 'bearer' && o.token !== undefined) {
    return value === o.token ? 'bearer' : undefined;
  }
  return undefined;
}

function sendRefusal(reply: FastifyReply, r: MtsRefusal): FastifyReply {
  return reply.code(r.httpStatus).send(r.body);
}

export interface MtsEmulatorApp {
  app: FastifyInstance;
  /** Aborts latency sleeps so `close()` does not wait for them. */
  abortSleeps(): void;
}

/** The MTS Communicator HTTP surface (SPEC §2) over the emulator's state. */
export function buildMtsEmulatorApp(
  o: ResolvedMtsEmulatorOptions,
  state: EmulatorState,
  dlr: DlrDispatcher,
): MtsEmulatorApp {
  const app = Fastify({
    loggerInstance: (o.logger ?? silentLogger) as FastifyBaseLogger,
    // extra_id may be 64 non-ASCII characters, i.e. up to 384 once percent-encoded in the path.
    routerOptions: { maxParamLength: 1000 },
  });
  const sleeps = new AbortController();

  // Arrival, rate limit and auth apply to every path, known or not, like a gateway.
  app.addHook('onRequest', async (req, reply) => {
    const at = Date.now();
    state.recordRequest({ at, method: req.method, url: req.url, kind: classify(req.url) });
    if (!state.admit(at, o.rateLimit)) {
      reply.header('retry-after', '1');
      return sendRefusal(reply, refusal(429, 429, 'Too many requests: rate limit exceeded'));
    }
    const auth = checkAuth(req.headers.authorization, o);
    if (!auth) {
      reply.header('www-authenticate', 'Basic realm="MTS Communicator"');
      return sendRefusal(reply, refusal(401, 401, 'Unauthorized: wrong login/password or token'));
    }
    req.mtsAuth = auth;
  });

  // Latency delays the answer, not the work: a send is accepted before a slow reply, which is
  // exactly the case that makes a client timeout ambiguous.
  app.addHook('onSend', async () => {
    await systemClock.sleep(pickLatency(state.settings.latencyMs, o.random), sleeps.signal);
  });

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    const text = status >= 500 ? 'Internal server error' : err.message;
    return sendRefusal(reply, refusal(status, status, text));
  });
  app.setNotFoundHandler((_req, reply) => sendRefusal(reply, refusal(404, 404, 'Not found')));

  function clientMismatch(
    req: FastifyRequest<{ Params: { clientId: string } }>,
    reply: FastifyReply,
  ) {
    if (req.params.clientId === o.clientId) return undefined;
    return sendRefusal(reply, refusal(404, 404, `Unknown client id ${req.params.clientId}`));
  }

  function accept(v: ValidSend, body: unknown, auth: AuthScheme): EmulatedMessage {
    const at = Date.now();
    const startAt = v.startAt !== undefined ? Math.max(at, v.startAt) : at;
    const msg = state.accept(randomUUID(), v, {
      auth,
      body,
      at,
      outcome: state.settings.outcome(v.phone, v.text),
      dueAt: startAt + o.dlr.delayMs,
    });
    dlr.schedule(msg);
    return msg;
  }

  /** An injected or random failure for this send, if any is due. */
  function injectedFailure(reply: FastifyReply): FastifyReply | undefined {
    const f = state.failures.shift();
    if (f) {
      if (f.status === 429) reply.header('retry-after', '1');
      return reply.code(f.status).send(f.body ?? defaultErrorBody(f.status));
    }
    if (o.failureRate > 0 && o.random() < o.failureRate) {
      return sendRefusal(reply, refusal(500, 500, 'Internal server error'));
    }
    return undefined;
  }

  app.post<{ Params: { clientId: string } }>('/:clientId/json2/simple', async (req, reply) => {
    const stop = clientMismatch(req, reply) ?? injectedFailure(reply);
    if (stop) return stop;
    const v = validateSimpleSend(req.body, o.alphaNames);
    if (isRefusal(v)) return sendRefusal(reply, v);
    const msg = accept(v, req.body, req.mtsAuth ?? 'basic');
    return { message_id: msg.record.messageId };
  });

  app.post<{ Params: { clientId: string } }>('/:clientId/json2/batch/sync', async (req, reply) => {
    const stop = clientMismatch(req, reply) ?? injectedFailure(reply);
    if (stop) return stop;
    const parts = splitBatch(req.body);
    if (isRefusal(parts)) return sendRefusal(reply, parts);
    const messages = parts.map((part) => {
      const v = validateSimpleSend(part, o.alphaNames);
      const echo = { phone_number: part.phone_number, extra_id: part.extra_id };
      if (isRefusal(v)) return { processed: false, ...echo, accepted: false, ...v.body };
      const msg = accept(v, part, req.mtsAuth ?? 'basic');
      return { processed: true, ...echo, message_id: msg.record.messageId, accepted: true };
    });
    return { messages };
  });

  function answerStatus(msg: EmulatedMessage | undefined, what: string, reply: FastifyReply) {
    if (!msg) return sendRefusal(reply, refusal(404, 404, `Message ${what} not found`));
    return statusAnswerBody(msg);
  }

  app.get<{ Params: { clientId: string; extraId: string } }>(
    '/:clientId/dr/external/:extraId/simple',
    async (req, reply) =>
      clientMismatch(req, reply) ??
      answerStatus(
        state.byExtraId(req.params.extraId),
        `with extra_id ${req.params.extraId}`,
        reply,
      ),
  );

  app.get<{ Params: { clientId: string; messageId: string } }>(
    '/:clientId/dr/:messageId/simple',
    async (req, reply) =>
      clientMismatch(req, reply) ??
      answerStatus(state.byMessageId(req.params.messageId), req.params.messageId, reply),
  );

  return { app, abortSleeps: () => sleeps.abort() };
}
