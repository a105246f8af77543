import type { Departure, DepartureGate, NotSent } from './departures.js';
import {
  MtsError,
  mtsBadAnswer,
  mtsErrorFromNoAnswer,
  mtsErrorFromResponse,
  readMtsErrorBody,
} from './errors.js';
import {
  createHttpTransport,
  type HttpAnswer,
  type HttpExchange,
  type HttpTransportOptions,
} from './http.js';
import { parseStatusAnswer } from './report.js';
import type { MtsClient, MtsReport, MtsSendRequest } from './types.js';
import { toSendBody } from './wire.js';

export interface MtsClientOptions {
  /** API root without the client id, e.g. `https://api.communicator.mts.by`. */
  baseUrl: string;
  /** The numeric id in MTS paths (`MTS_CLIENT_ID`). */
  clientId: string;
  /** Basic auth login; used with `password` when no `token` is given. */
  login?: string;
  password?: string;
  /** API token sent as `Authorization: Bearer …`; wins over login/password. */
  token?: string;
  /** Per-request deadline covering connect, send and reading the body. Default 15000 ms. */
  timeoutMs?: number;
  /** Sends leave from this thread at their slot (`sendAt`); without it there is no `sendAt`. */
  departures?: DepartureGate;
}

/** Default per-request deadline; MTS answers sends in well under a second when healthy. */
export const DEFAULT_MTS_TIMEOUT_MS = 15_000;

/** MTS answers are a few hundred bytes; a larger body than this is refused unread. */
export const MAX_MTS_BODY_BYTES = 1024 * 1024;

interface Answer {
  status: number;
  /** Parsed JSON body; undefined when empty or not JSON. */
  json: unknown;
  retryAfter: string | null;
}

function authorizationHeader(opts: MtsClientOptions): string {
  if (opts.token) return `Bearer ${opts.token}`;
  if (opts.login && opts.password !== undefined) {
    return `Basic ${Buffer.from(`${opts.login}:${opts.password}`).toString('base64')}`;
  }
  throw new MtsError('No MTS credentials: set MTS_LOGIN and MTS_PASSWORD, or MTS_API_TOKEN', {
    action: 'pause',
    code: 'MTS_NO_CREDENTIALS',
  });
}

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The `message_id` of a send answer, if it has a usable one. */
function messageIdOf(json: unknown): string | undefined {
  const id =
    typeof json === 'object' && json !== null
      ? (json as { message_id?: unknown }).message_id
      : undefined;
  if (typeof id === 'string' && id.trim() !== '') return id.trim();
  if (typeof id === 'number') return String(id);
  return undefined;
}

/**
 * MTS Communicator client: one send, two status lookups; every failure is an MtsError.
 * It keeps its connections alive between requests: `close()` ends them.
 */
export function createMtsClient(opts: MtsClientOptions): MtsClient {
  const root = `${opts.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(opts.clientId)}`;
  const authorization = authorizationHeader(opts);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_MTS_TIMEOUT_MS;
  const transport: HttpTransportOptions = {
    secure: /^https:/i.test(root),
    timeoutMs,
    maxBodyBytes: MAX_MTS_BODY_BYTES,
  };
  const http = createHttpTransport(transport);

  function exchangeOf(method: 'GET' | 'POST', url: string, body?: unknown): HttpExchange {
    return {
      method,
      url,
      headers:
        body !== undefined
          ? { authorization, accept: 'application/json', 'content-type': 'application/json' }
          : { authorization, accept: 'application/json' },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      // A lookup may be repeated; a send never is (a resend could deliver the SMS twice).
      idempotent: method === 'GET',
    };
  }

  /** The MtsError for an exchange that brought no usable answer (also from the departure thread). */
  function noAnswer(err: unknown, method: 'GET' | 'POST', url: string): MtsError {
    const e = err as { name?: unknown; status?: number; maxBytes?: number };
    if (e?.name === 'BodyTooLargeError') {
      return mtsBadAnswer(
        e.status ?? 0,
        `a body larger than ${e.maxBytes} bytes`,
        method === 'POST',
      );
    }
    return mtsErrorFromNoAnswer(err, url, timeoutMs);
  }

  function answerOf(a: HttpAnswer): Answer {
    let json: unknown;
    try {
      json = a.text === '' ? undefined : JSON.parse(a.text);
    } catch {
      json = undefined;
    }
    return { status: a.status, json, retryAfter: a.retryAfter };
  }

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const url = root + path;
    let a: HttpAnswer;
    try {
      a = await http.exchange(exchangeOf(method, url, body));
    } catch (err) {
      throw noAnswer(err, method, url);
    }
    return answerOf(a);
  }

  async function status(path: string): Promise<MtsReport | null> {
    const a = await call('GET', path);
    if (a.status === 404) return null;
    if (!is2xx(a.status)) throw mtsErrorFromResponse(a.status, a.json, a);
    if (a.json === undefined) throw mtsBadAnswer(a.status, 'a body that is not JSON', false);
    const e = readMtsErrorBody(a.json);
    if (e) {
      if (e.code === 404) return null;
      throw mtsErrorFromResponse(a.status, a.json, a);
    }
    return parseStatusAnswer(a.json);
  }

  function acceptance(req: MtsSendRequest, a: Answer): { messageId: string } {
    const id = messageIdOf(a.json);
    const e = readMtsErrorBody(a.json);
    // A message_id with an empty error (`"error_code": 0` or null) is an acceptance:
    // calling it an error would send the message twice.
    const refused = e !== undefined && !(id !== undefined && !e.code);
    if (!is2xx(a.status) || refused) {
      throw mtsErrorFromResponse(a.status, a.json, { ...a, alphaName: req.alphaName });
    }
    if (a.json === undefined) throw mtsBadAnswer(a.status, 'a body that is not JSON');
    if (id !== undefined) return { messageId: id };
    throw mtsBadAnswer(a.status, 'no message_id');
  }

  const gate = opts.departures;
  const sendUrl = `${root}/json2/simple`;
  return {
    send: async (req: MtsSendRequest) =>
      acceptance(req, await call('POST', '/json2/simple', toSendBody(req))),
    ...(gate
      ? {
          async sendAt(req: MtsSendRequest, at: Departure, signal?: AbortSignal) {
            let a: HttpAnswer | { notSent: NotSent };
            try {
              a = await gate.exchange(
                transport,
                exchangeOf('POST', sendUrl, toSendBody(req)),
                at,
                signal,
              );
            } catch (err) {
              throw noAnswer(err, 'POST', sendUrl);
            }
            return 'notSent' in a ? a : acceptance(req, answerOf(a));
          },
        }
      : {}),
    statusByMessageId: (messageId) => status(`/dr/${encodeURIComponent(messageId)}/simple`),
    statusByExtraId: (extraId) => status(`/dr/external/${encodeURIComponent(extraId)}/simple`),
    close: () => http.close(),
  };
}
