import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HttpAnswer, HttpExchange, HttpTransportOptions } from './http.js';

/**
 * The departure thread: MTS sends leave from a worker thread of their own, at their rate slot.
 *
 * The rate limiter's promise — no 1 s window at MTS holds more than the contracted rate — rests
 * on each request leaving within a few milliseconds of its slot (MTS_RATE_HEADROOM_MS ÷ 3); a
 * request that cannot is not sent late but takes a new slot, so its old slot is lost. On the
 * main thread every pause of the event loop longer than that — a garbage collection, a WAL
 * checkpoint, a batch of delivery reports, a campaign's feeding transaction — cost slots: a
 * campaign at 100/s kept 0.96 of its rate. Here the main thread claims messages and their slots
 * as before and hands each request over ahead of its slot; this thread, which does nothing
 * else, sends it on time and hands the answer back. A pause of the main thread now only delays
 * reading answers.
 *
 * The thread checks at the slot, on the shared wall clock, what the sender would have checked:
 * not later than the slot plus `maxLateMs` (else `late`: the sender takes a new slot), and not
 * after `notAfterMs`, until when the sender knows the claim is still its own (else `stale`: the
 * sender checks again). A request not yet departed when the sender stops is `cancelled`.
 */

export interface Departure {
  /** Epoch ms of the rate slot. */
  atMs: number;
  /** The request leaves at most this long after the slot. */
  maxLateMs: number;
  /** Epoch ms after which the claim is not known to be ours any more. */
  notAfterMs: number;
}

export type NotSent = 'late' | 'stale' | 'cancelled';

export interface DepartureGate {
  /**
   * Sends `x` over a transport with `transport`'s options at `at.atMs`. Resolves with the answer,
   * or with why it did not leave; rejects like HttpTransport.exchange when it left and no usable
   * answer came back (or the thread died meanwhile: then whether it left is unknown).
   */
  exchange(
    transport: HttpTransportOptions,
    x: HttpExchange,
    at: Departure,
    signal?: AbortSignal,
  ): Promise<HttpAnswer | { notSent: NotSent }>;
  /** Requests waiting for their slot or for their answer. */
  readonly pending: number;
  /**
   * Starts the thread (the first exchange would too) and resolves once it has loaded and its
   * event loop answers a timer promptly — or it failed to load, or after 10 s to load and 2 s to
   * settle: the sender starts claiming only then, so its first requests are not handed to a
   * thread still loading (or busy just after: finishing its module graph, its first garbage
   * collections) and come back late.
   */
  start(): Promise<void>;
  /** Ends the thread; pending requests reject. */
  close(): Promise<void>;
}

/** main → thread */
export type ToThread =
  | {
      kind: 'send';
      id: number;
      transport: HttpTransportOptions;
      x: HttpExchange;
      at: Departure;
    }
  | { kind: 'cancel'; id: number }
  /** Answered with `pong` from a timer: how long the thread's event loop takes to get to it. */
  | { kind: 'ping'; id: number };

/** thread → main */
export type FromThread =
  | { ready: true }
  | { pong: number }
  | { id: number; answer: HttpAnswer }
  | { id: number; notSent: NotSent }
  | {
      id: number;
      error: { name: string; message: string; code?: string; status?: number; maxBytes?: number };
    };

/** `code` of the error pending requests reject with when the thread dies. */
export const DEPARTURE_THREAD_EXIT = 'DEPARTURE_THREAD_EXIT';

/**
 * The thread's entry. From the TypeScript sources (tests, `npm run dev`) it registers tsx's
 * loader first and imports the .ts file (Node 20 does not apply `--import tsx` to a worker's
 * entry); built, it is the .js file beside this one.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./departureWorker.js', import.meta.url);
  const tsx =
    typeof import.meta.resolve === 'function'
      ? import.meta.resolve('tsx/esm/api')
      : pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(
          /\.cjs$/,
          '.mjs',
        );
  const entry = new URL('./departureWorker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(entry)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** `start()` resolves after this even if the thread never says it is ready (it then fails its sends). */
const READY_TIMEOUT_MS = 10_000;

/**
 * After loading, the thread has settled when a ping's round trip (main → thread timer → main)
 * takes at most SETTLED_RTT_MS; `start()` tries for at most SETTLE_MAX_MS. Measured on Node 24
 * from the TypeScript sources: the thread's loop stayed busy 20–30 ms after it said it was
 * ready, which made the first request late by up to 30 ms.
 */
const SETTLED_RTT_MS = 5;
const SETTLE_MAX_MS = 2000;
const PING_TIMEOUT_MS = 250;

/** V8 heap limits of the thread, MiB. */
const THREAD_HEAP_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 12 };

interface Waiting {
  resolve(v: HttpAnswer | { notSent: NotSent }): void;
  reject(e: Error): void;
  unlisten(): void;
}

/** The thread starts on `start()` or the first exchange, and again on the next use after it died. */
export function createDepartureGate(): DepartureGate {
  let worker: Worker | undefined;
  let nextId = 1;
  const waiting = new Map<number, Waiting>();
  /** Pings waiting for their pong: called with when it came, or undefined when none comes. */
  const pings = new Map<number, (at: number | undefined) => void>();
  let everStarted = false;
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  /** The thread is gone (failed, exited, closed): what waits on it gets its end now. */
  function failAll(why: string): void {
    for (const done of [...pings.values()]) done(undefined);
    for (const [id, w] of waiting) {
      waiting.delete(id);
      w.unlisten();
      w.reject(Object.assign(new Error(why), { code: DEPARTURE_THREAD_EXIT }));
    }
  }

  function thread(): Worker {
    if (worker) return worker;
    if (!everStarted) {
      everStarted = true;
      setTimeout(markReady, READY_TIMEOUT_MS).unref();
    }
    // Its live data is a few dozen requests and sockets; without limits V8 let its heap grow to
    // ~100 MiB of garbage between collections (measured: +1.6 MiB/s at 100 sends/s).
    const w = new Worker(workerEntry(), { resourceLimits: THREAD_HEAP_LIMITS });
    // An idle thread does not keep the process alive; a pending request does (see exchange).
    w.unref();
    w.on('message', (m: FromThread) => {
      if ('ready' in m) return markReady();
      if ('pong' in m) return pings.get(m.pong)?.(performance.now());
      const entry = waiting.get(m.id);
      if (!entry) return;
      waiting.delete(m.id);
      entry.unlisten();
      if (waiting.size === 0) w.unref();
      if ('answer' in m) entry.resolve(m.answer);
      else if ('notSent' in m) entry.resolve({ notSent: m.notSent });
      else entry.reject(Object.assign(new Error(m.error.message), m.error));
    });
    w.on('error', (err) => {
      markReady();
      if (worker === w) worker = undefined;
      failAll(`the MTS departure thread failed: ${err.message}`);
    });
    w.on('exit', (code) => {
      markReady();
      if (worker === w) worker = undefined;
      failAll(`the MTS departure thread exited (${code})`);
    });
    worker = w;
    return w;
  }

  /** Whether the thread answered a ping within PING_TIMEOUT_MS and how fast. */
  function ping(w: Worker): Promise<number | undefined> {
    const id = nextId++;
    const sent = performance.now();
    return new Promise((resolve) => {
      const done = (at: number | undefined) => {
        clearTimeout(timer);
        pings.delete(id);
        resolve(at === undefined ? undefined : at - sent);
      };
      const timer = setTimeout(() => done(undefined), PING_TIMEOUT_MS);
      timer.unref();
      pings.set(id, done);
      w.postMessage({ kind: 'ping', id } satisfies ToThread);
    });
  }

  async function settle(w: Worker): Promise<void> {
    const until = Date.now() + SETTLE_MAX_MS;
    while (worker === w && Date.now() < until) {
      const rtt = await ping(w);
      if (rtt !== undefined && rtt <= SETTLED_RTT_MS) return;
    }
  }

  return {
    exchange(transport, x, at, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return resolve({ notSent: 'cancelled' });
        const w = thread();
        const id = nextId++;
        const onAbort = () => w.postMessage({ kind: 'cancel', id } satisfies ToThread);
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.set(id, {
          resolve,
          reject,
          unlisten: () => signal?.removeEventListener('abort', onAbort),
        });
        w.ref();
        w.postMessage({ kind: 'send', id, transport, x, at } satisfies ToThread);
      });
    },
    get pending() {
      return waiting.size;
    },
    async start() {
      const w = thread();
      await ready;
      await settle(w);
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
      failAll('the MTS departure thread was closed');
    },
  };
}
