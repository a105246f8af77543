import type { AddressInfo } from 'node:net';
import { applyModeRequest } from './control.js';
import { DlrDispatcher } from './dlr.js';
import type { MtsEmulatorMode, MtsFault } from './mode.js';
import type { Latency, MtsEmulatorOptions, OutcomeFn } from './options.js';
import { resolveOptions } from './options.js';
import { buildMtsEmulatorApp } from './server.js';
import {
  type CallbackAttempt,
  EmulatorState,
  type RequestRecord,
  type SentRecord,
} from './state.js';

export { MTS_FAULTS, type MtsEmulatorMode, type MtsFault } from './mode.js';
export type {
  DlrOutcome,
  Latency,
  MtsEmulatorDlrOptions,
  MtsEmulatorDlrRetryOptions,
  MtsEmulatorOptions,
  OutcomeFn,
} from './options.js';
export type { CallbackAttempt, RequestRecord, SentRecord } from './state.js';

/** A running MTS Communicator emulator and the controls tests use on it. */
export interface MtsEmulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`: use as the client's `baseUrl` with `clientId`. */
  readonly url: string;
  readonly port: number;
  readonly clientId: string;
  readonly login: string;
  readonly password: string;
  /** Every accepted send, in order. Never deduplicated by extra_id. */
  readonly sent: readonly SentRecord[];
  /** Arrival time (epoch ms) of every HTTP request, whatever its answer. */
  readonly requestTimes: readonly number[];
  /** Every HTTP request with its method, URL and kind. */
  readonly requests: readonly RequestRecord[];
  /** Every DLR POST attempt with the receiver's answer. */
  readonly callbacks: readonly CallbackAttempt[];
  /** Most requests (optionally only those matching `filter`) seen in any `windowMs` window. Default 1000 ms. */
  maxRequestsInWindow(windowMs?: number, filter?: (r: RequestRecord) => boolean): number;
  /** How many accepted sends carried this extra_id (more than one = a double send). */
  countByExtraId(extraId: string): number;
  /**
   * Answers the next `n` sends with `status` (default 500) and `body` (default
   * `{"error_code": status, "error_text": …}`); 429 carries `Retry-After: 1`.
   * The send is not recorded. Status queries are unaffected.
   */
  failNext(n: number, status?: number, body?: unknown): void;
  /** Delay before every answer, fixed or `[min, max]` (`mode.latencyMs`). */
  setLatency(ms: Latency): void;
  /** When false, every DLR (and planned retry) is dropped; status queries still show the final state (`mode.dlr`). */
  setDlrEnabled(enabled: boolean): void;
  /** The current switches (a copy). */
  readonly mode: MtsEmulatorMode;
  /** Changes some switches; turning `hang` off answers the hung requests 504. Returns the new mode. */
  setMode(patch: Partial<MtsEmulatorMode>): MtsEmulatorMode;
  /**
   * Switches on a failure class by name (`balance`, `password`, `inactive`, `alpha`,
   * `throttle`, `429`, `5xx`, `timeout`, `dlr-loss`), on top of the current mode; `none`
   * restores the initial mode. Returns the new mode.
   */
  setFault(fault: MtsFault | 'none'): MtsEmulatorMode;
  /** Fate of messages accepted from now on. */
  setOutcome(fn: OutcomeFn): void;
  /** Makes every message due later final now and waits for the first POST of each DLR. */
  deliverNow(): Promise<void>;
  /** Forgets every message, request and callback and restores the initial settings. */
  reset(): void;
  /** Stops timers and callbacks in flight and closes the server. */
  close(): Promise<void>;
}

/** Starts a local MTS Communicator on loopback (by default a random port). */
export async function startMtsEmulator(opts?: MtsEmulatorOptions): Promise<MtsEmulator> {
  const o = resolveOptions(opts);
  const state = new EmulatorState({ outcome: o.dlr.outcome, mode: o.mode });
  const dlr = new DlrDispatcher(state, o.dlrRetry, o.logger, o.statusField);
  const { app, abortSleeps } = buildMtsEmulatorApp(o, state, dlr);
  await app.listen({ port: o.port, host: o.host });
  const { port } = app.server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closed = false;

  return {
    url: `http://${host}:${port}`,
    port,
    clientId: o.clientId,
    login: o.login,
    password: o.password,
    sent: state.sent,
    requestTimes: state.requestTimes,
    requests: state.requests,
    callbacks: state.callbacks,
    maxRequestsInWindow: (windowMs, filter) => state.maxRequestsInWindow(windowMs, filter),
    countByExtraId: (extraId) => state.countByExtraId(extraId),
    failNext(n, status = 500, body) {
      for (let i = 0; i < n; i++) state.failures.push({ status, body });
    },
    setLatency(ms) {
      state.setMode({ latencyMs: ms });
    },
    setDlrEnabled(enabled) {
      state.setMode({ dlr: enabled });
    },
    get mode() {
      return state.modeSnapshot();
    },
    setMode(patch) {
      state.setMode(patch);
      return state.modeSnapshot();
    },
    setFault: (fault) => applyModeRequest(state, { fault }),
    setOutcome(fn) {
      state.settings.outcome = fn;
    },
    deliverNow: () => dlr.deliverNow(),
    reset() {
      dlr.reset();
      state.reset();
    },
    async close() {
      if (closed) return;
      closed = true;
      dlr.reset();
      abortSleeps();
      await app.close();
    },
  };
}
