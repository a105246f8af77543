import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { systemClock } from '../../clock.js';
import { silentLogger } from '../../log.js';
import { defaultErrorBody, httpRefusal, type MtsRefusal, mtsRefusal } from './codes.js';
import { CONTROL_PREFIX, registerControlRoutes } from './control.js';
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

/** setTimeout overflows past this: the longest a hung request waits. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
    // close() must not wait for connections a client left open, e.g. after a hung request.
    forceCloseConnections: true,
  });
  const sleeps = new AbortController();

  /** An MTS error code answers with the mode's status (200 by default); HTTP errors with theirs. */
  function sendRefusal(reply: FastifyReply, r: MtsRefusal): FastifyReply {
    return reply.code(r.httpStatus ?? state.settings.mode.errorHttpStatus).send(r.body);
  }

  registerControlRoutes(app, state);

  // Arrival, hang, rate limit, auth and 5xx apply to every API path, known or not, like a
  // gateway; the control routes are outside MTS's API and skip them all.
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith(CONTROL_PREFIX)) return;
    const at = Date.now();
    state.recordRequest({ at, method: req.method, url: req.url, kind: classify(req.url) });
    const mode = state.settings.mode;
    if (mode.hang) {
      // Not acted upon; answered only once the hang is switched off (or the emulator closes).
      await systemClock.sleep(MAX_TIMER_MS, AbortSignal.any([state.hangSignal, sleeps.signal]));
      return sendRefusal(reply, httpRefusal(504, 'Gateway timeout'));
    }
    if (!state.admit(at, mode.rate)) {
      if (mode.overRate === 'throttle') return sendRefusal(reply, mtsRefusal('throttled'));
      reply.header('retry-after', String(mode.retryAfterSec));
      return sendRefusal(reply, httpRefusal(429, 'Too many requests: rate limit exceeded'));
    }
    const auth = mode.account === 'password' ? undefined : checkAuth(req.headers.authorization, o);
    if (!auth) {
      reply.header('www-authenticate', 'Basic realm="MTS Communicator"');
      return sendRefusal(reply, httpRefusal(401, 'Incorrect password', 1130));
    }
    req.mtsAuth = auth;
    if (mode.serverErrorRate > 0 && o.random() < mode.serverErrorRate) {
      return sendRefusal(reply, httpRefusal(503, 'Service unavailable'));
    }
  });

  // Latency delays the answer, not the work: a send is accepted before a slow reply, which is
  // exactly the case that makes a client timeout ambiguous.
  app.addHook('onSend', async (req) => {
    if (req.url.startsWith(CONTROL_PREFIX)) return;
    await systemClock.sleep(pickLatency(state.settings.mode.latencyMs, o.random), sleeps.signal);
  });

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    const text = status >= 500 ? 'Internal server error' : err.message;
    return sendRefusal(reply, httpRefusal(status, text));
  });
  app.setNotFoundHandler((_req, reply) => sendRefusal(reply, httpRefusal(404, 'Not found')));

  function clientMismatch(
    req: FastifyRequest<{ Params: { clientId: string } }>,
    reply: FastifyReply,
  ) {
    if (req.params.clientId === o.clientId) return undefined;
    return sendRefusal(reply, httpRefusal(404, `Unknown client id ${req.params.clientId}`));
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
      return sendRefusal(reply, httpRefusal(500, 'Internal server error'));
    }
    return undefined;
  }

  /** One message judged as MTS would: the account first, then the message's own fields. */
  function judge(body: unknown): ValidSend | MtsRefusal {
    const { account, heldAlphaNames } = state.settings.mode;
    if (account === 'balance') return mtsRefusal('quotaNotEnough');
    if (account === 'inactive') return mtsRefusal('connectionNotActive');
    return validateSimpleSend(body, { alphaNames: o.alphaNames, heldAlphaNames, now: Date.now() });
  }

  app.post<{ Params: { clientId: string } }>('/:clientId/json2/simple', async (req, reply) => {
    const stop = clientMismatch(req, reply) ?? injectedFailure(reply);
    if (stop) return stop;
    const v = judge(req.body);
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
      const v = judge(part);
      const echo = { phone_number: part.phone_number, extra_id: part.extra_id };
      if (isRefusal(v)) return { processed: false, ...echo, accepted: false, ...v.body };
      const msg = accept(v, part, req.mtsAuth ?? 'basic');
      return { processed: true, ...echo, message_id: msg.record.messageId, accepted: true };
    });
    return { messages };
  });

  /** A lookup answer; a message accepted less than `lookupDelayMs` ago is not visible yet. */
  function answerStatus(msg: EmulatedMessage | undefined, what: string, reply: FastifyReply) {
    if (!msg || !visible(msg)) {
      return sendRefusal(reply, httpRefusal(404, `Message ${what} not found`));
    }
    return statusAnswerBody(msg, o.statusField);
  }

  function visible(msg: EmulatedMessage): boolean {
    return Date.now() - msg.record.receivedAt >= state.settings.mode.lookupDelayMs;
  }

  app.get<{ Params: { clientId: string; extraId: string } }>(
    '/:clientId/dr/external/:extraId/simple',
    async (req, reply) =>
      clientMismatch(req, reply) ??
      answerStatus(
        state.byExtraId(req.params.extraId, visible),
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
