import type { Logger } from '../../log.js';
import { DEFAULT_MODE, type Latency, type MtsEmulatorMode } from './mode.js';

/** What becomes of a message at MTS; `pending` never reaches a final state. */
export type DlrOutcome = 'delivered' | 'undelivered' | 'expired' | 'rejected' | 'pending';

/** Decides a message's fate from its phone (digits, no `+`) and text. */
export type OutcomeFn = (phone: string, text: string) => DlrOutcome;

/** Fixed latency, or a uniform random one in `[min, max]` ms (defined beside the modes). */
export type { Latency };

export interface MtsEmulatorDlrOptions {
  /** POST delivery reports to `callback_url`. When false they are dropped (status queries still see the final state). Same as `mode.dlr`. Default true. */
  enabled?: boolean;
  /** Milliseconds from acceptance to the final state and its DLR. Default 200. */
  delayMs?: number;
  /** Fate of each message, decided when it is accepted. Default: always `delivered`. */
  outcome?: OutcomeFn;
}

export interface MtsEmulatorDlrRetryOptions {
  /** First retry delay; doubles each attempt. Default 500 ms. */
  baseMs?: number;
  /** Attempts in all, the first included. Default 8. */
  maxAttempts?: number;
  /** Deadline of one callback POST. Default 5000 ms. */
  timeoutMs?: number;
}

export interface MtsEmulatorOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** The client id expected in every path. Default `1254`. */
  clientId?: string;
  /** Basic auth credentials accepted. Default `sandbox` / `sandbox`. */
  login?: string;
  password?: string;
  /** When set, `Authorization: Bearer <token>` is accepted as well. Default none. */
  token?: string;
  /**
   * Alpha names registered for this client; any other is refused with 10262. Default: any
   * name (up to 11 GSM-7 characters) is allowed.
   */
  alphaNames?: string[];
  /** Delay before every answer (same as `mode.latencyMs`). Default 0. */
  latencyMs?: Latency;
  /** Fraction (0..1) of sends answered 500 at random. Default 0. */
  failureRate?: number;
  /**
   * Contracted rate: API requests per second (sliding 1 s window) above which MTS refuses,
   * as `mode.overRate` says (default 10224 inside a 200). Same as `mode.rate`. Default none.
   */
  rateLimit?: number;
  /** Initial switches (see MtsEmulatorMode); `reset()` and the `none` fault come back to them. */
  mode?: Partial<MtsEmulatorMode>;
  /**
   * Name of the detailed code in DLRs and status answers: `msg_status` (MTS 2022, default) or
   * `hyber_status` (the 2020 document and Hyber's docs).
   */
  statusField?: 'msg_status' | 'hyber_status';
  /** Delivery reports. Defaults: enabled, 200 ms, always delivered. */
  dlr?: MtsEmulatorDlrOptions;
  /** Retry of a DLR POST that failed or got a non-2xx answer. Defaults: 500 ms base, 8 attempts. */
  dlrRetry?: MtsEmulatorDlrRetryOptions;
  /** Random source for `failureRate` and latency ranges. Default Math.random. */
  random?: () => number;
  /** Request and DLR logging. Default: silent. */
  logger?: Logger;
}

/** Options with every default filled in. */
export interface ResolvedMtsEmulatorOptions {
  port: number;
  host: string;
  clientId: string;
  login: string;
  password: string;
  token: string | undefined;
  /** Undefined: any alpha name is allowed. */
  alphaNames: string[] | undefined;
  failureRate: number;
  mode: MtsEmulatorMode;
  statusField: 'msg_status' | 'hyber_status';
  /** Delay and outcome; `enabled` lives in `mode.dlr`. */
  dlr: Required<Omit<MtsEmulatorDlrOptions, 'enabled'>>;
  dlrRetry: Required<MtsEmulatorDlrRetryOptions>;
  random: () => number;
  logger: Logger | undefined;
}

export const alwaysDelivered: OutcomeFn = () => 'delivered';

export function resolveOptions(o: MtsEmulatorOptions = {}): ResolvedMtsEmulatorOptions {
  return {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    clientId: o.clientId ?? '1254',
    login: o.login ?? 'sandbox',
    password: o.password ?? 'sandbox',
    token: o.token,
    alphaNames: o.alphaNames,
    failureRate: o.failureRate ?? 0,
    mode: {
      ...DEFAULT_MODE,
      ...(o.latencyMs !== undefined ? { latencyMs: o.latencyMs } : {}),
      ...(o.rateLimit !== undefined ? { rate: o.rateLimit } : {}),
      ...(o.dlr?.enabled !== undefined ? { dlr: o.dlr.enabled } : {}),
      ...o.mode,
      heldAlphaNames: [...(o.mode?.heldAlphaNames ?? DEFAULT_MODE.heldAlphaNames)],
    },
    statusField: o.statusField ?? 'msg_status',
    dlr: {
      delayMs: o.dlr?.delayMs ?? 200,
      outcome: o.dlr?.outcome ?? alwaysDelivered,
    },
    dlrRetry: {
      baseMs: o.dlrRetry?.baseMs ?? 500,
      maxAttempts: o.dlrRetry?.maxAttempts ?? 8,
      timeoutMs: o.dlrRetry?.timeoutMs ?? 5000,
    },
    random: o.random ?? Math.random,
    logger: o.logger,
  };
}
