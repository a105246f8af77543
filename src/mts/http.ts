import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The MTS client's HTTP/1.1 exchanges, on `node:http` over one keep-alive agent: the global
 * fetch (undici, web streams, an AbortSignal per request) took about 2.5 times the CPU per
 * send.
 */

/**
 * Idle keep-alive sockets close after this. It is undici's default too: MTS's keep-alive
 * timeout is unknown, and a short idle life makes a server-closed socket on reuse rare. A
 * server's `Keep-Alive: timeout=N` hint shortens it further (Node's agent honours it).
 */
const IDLE_SOCKET_MS = 4000;
/**
 * At most this many requests in flight per client; more wait for a free socket, with their
 * deadline running. Well above what we run at once (SENDER_CONCURRENCY, 16 by default, plus
 * the status poller's one lookup), so it guards only against a runaway.
 */
const MAX_SOCKETS = 64;
/**
 * A new connection (DNS, TCP, TLS) that is not up after this fails as "not connected",
 * which proves nothing was sent. Undici's connect timeout, kept so an unreachable MTS
 * fails the same way as before.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/** `code` of the error a connect that took longer than CONNECT_TIMEOUT_MS fails with. */
export const CONNECT_TIMEOUT = 'CONNECT_TIMEOUT';

/** Errors on a reused idle socket that mean the server had closed it before our request. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** The whole exchange, body included, outlived its deadline (named like AbortSignal.timeout's). */
export class DeadlineError extends Error {
  override readonly name = 'TimeoutError';
}

/** The answer's body was larger than the transport reads. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(
    readonly status: number,
    readonly maxBytes: number,
  ) {
    super(`the answer's body is larger than ${maxBytes} bytes`);
  }
}

/** The first string `code` on an error, its causes or an AggregateError's errors. */
export function findErrorCode(err: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  const fromCause = findErrorCode(e.cause, depth + 1);
  if (fromCause) return fromCause;
  // Happy-eyeballs connects fail with an AggregateError holding one error per address.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const code = findErrorCode(inner, depth + 1);
      if (code) return code;
    }
  }
  return undefined;
}

export interface HttpAnswer {
  status: number;
  /** The body decoded as UTF-8, a leading BOM dropped (as fetch's `text()`). */
  text: string;
  /** The `Retry-After` header, null when absent. */
  retryAfter: string | null;
}

export interface HttpExchange {
  method: 'GET' | 'POST';
  /** Absolute; parsed per request, so a malformed one fails the request, not the client. */
  url: string;
  headers: OutgoingHttpHeaders;
  /** Sent with its Content-Length. */
  body?: string;
  /**
   * The request may be repeated: a reused idle socket the server had closed (a reset before
   * any answer) is retried once on a new connection. Never for a send, where a resend could
   * deliver an SMS twice. Default false.
   */
  idempotent?: boolean;
}

export interface HttpTransport {
  /** Resolves with any HTTP answer, whatever its status; rejects when none arrived or it was unusable. */
  exchange(x: HttpExchange): Promise<HttpAnswer>;
  /** Destroys the pooled sockets. Later exchanges open new ones. */
  close(): void;
}

export interface HttpTransportOptions {
  /** `https:` uses TLS; anything else plain HTTP. */
  secure: boolean;
  /** Deadline for the whole exchange: connect, send and reading the body. */
  timeoutMs: number;
  /** A body over this many bytes fails with BodyTooLargeError. */
  maxBodyBytes: number;
}

export function createHttpTransport(o: HttpTransportOptions): HttpTransport {
  const agentOptions = {
    keepAlive: true,
    maxSockets: MAX_SOCKETS,
    // The most recently used socket first: under a light load the others idle out.
    scheduling: 'lifo',
    timeout: IDLE_SOCKET_MS,
  } as const;
  const agent = o.secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const request = o.secure ? httpsRequest : httpRequest;
  const connectedEvent = o.secure ? 'secureConnect' : 'connect';

  function attempt(x: HttpExchange, deadline: number, fresh: boolean): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      let req: ClientRequest | undefined;
      let settled = false;
      let answered = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const deadlineTimer = setTimeout(
        () => fail(new DeadlineError(`no complete answer within ${o.timeoutMs} ms`)),
        deadline - Date.now(),
      );
      const settle = () => {
        settled = true;
        clearTimeout(deadlineTimer);
        clearTimeout(connectTimer);
      };
      // Destroying the request closes its socket, so nothing half-read goes back to the pool.
      const fail = (err: Error) => {
        if (settled) return;
        settle();
        req?.destroy();
        reject(err);
      };

      try {
        req = request(x.url, {
          method: x.method,
          // A fresh connection of its own, outside the pool (closed after the answer).
          agent: fresh ? false : agent,
          headers:
            x.body !== undefined
              ? { ...x.headers, 'content-length': Buffer.byteLength(x.body) }
              : x.headers,
        });
      } catch (err) {
        fail(err as Error);
        return;
      }
      const r = req;

      r.on('socket', (socket) => {
        if (r.reusedSocket) return;
        connectTimer = setTimeout(() => {
          const err = new Error(`not connected within ${CONNECT_TIMEOUT_MS} ms`);
          fail(Object.assign(err, { code: CONNECT_TIMEOUT }));
        }, CONNECT_TIMEOUT_MS);
        socket.once(connectedEvent, () => clearTimeout(connectTimer));
      });

      r.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        const stale =
          !answered &&
          !fresh &&
          x.idempotent === true &&
          r.reusedSocket &&
          STALE_SOCKET_CODES.has(err.code ?? '');
        if (stale && Date.now() < deadline) {
          settle();
          resolve(attempt(x, deadline, true));
          return;
        }
        fail(err);
      });

      r.on('response', (res: IncomingMessage) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (Number(res.headers['content-length']) > o.maxBodyBytes) {
          fail(new BodyTooLargeError(status, o.maxBodyBytes));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > o.maxBodyBytes) fail(new BodyTooLargeError(status, o.maxBodyBytes));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settle();
          const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
          const text = bytes.toString('utf8');
          resolve({
            status,
            text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text,
            retryAfter: res.headers['retry-after'] ?? null,
          });
        });
      });

      r.end(x.body);
    });
  }

  return {
    exchange: (x) => attempt(x, Date.now() + o.timeoutMs, false),
    close: () => agent.destroy(),
  };
}
