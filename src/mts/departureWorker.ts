/**
 * The MTS departure thread (see departures.ts): waits for each request's slot, checks it may
 * still leave, and exchanges it over a kept-alive transport of the client's options.
 */
import { parentPort } from 'node:worker_threads';
import type { FromThread, ToThread } from './departures.js';
import {
  BodyTooLargeError,
  createHttpTransport,
  findErrorCode,
  type HttpTransport,
  type HttpTransportOptions,
} from './http.js';

const port = parentPort;
if (!port) throw new Error('departureWorker.ts runs as a worker thread (see departures.ts)');

const transports = new Map<string, HttpTransport>();
function transportFor(o: HttpTransportOptions): HttpTransport {
  const key = `${o.secure}|${o.timeoutMs}|${o.maxBodyBytes}`;
  let t = transports.get(key);
  if (!t) {
    t = createHttpTransport(o);
    transports.set(key, t);
  }
  return t;
}

/** Requests waiting for their slot. */
const timers = new Map<number, NodeJS.Timeout>();
const reply = (m: FromThread) => port.postMessage(m);

function depart(m: Extract<ToThread, { kind: 'send' }>): void {
  timers.delete(m.id);
  const t = Date.now();
  if (t > m.at.atMs + m.at.maxLateMs) {
    reply({ id: m.id, notSent: 'late' });
    return;
  }
  if (t > m.at.notAfterMs) {
    reply({ id: m.id, notSent: 'stale' });
    return;
  }
  transportFor(m.transport)
    .exchange(m.x)
    .then(
      (answer) => reply({ id: m.id, answer }),
      (err: Error) => {
        const code = findErrorCode(err);
        reply({
          id: m.id,
          error: {
            name: err.name,
            message: err.message,
            ...(code ? { code } : {}),
            ...(err instanceof BodyTooLargeError
              ? { status: err.status, maxBytes: err.maxBytes }
              : {}),
          },
        });
      },
    );
}

port.on('message', (m: ToThread) => {
  if (m.kind === 'ping') {
    setTimeout(() => reply({ pong: m.id }), 1);
    return;
  }
  if (m.kind === 'cancel') {
    const timer = timers.get(m.id);
    if (!timer) return; // already left: its answer comes
    clearTimeout(timer);
    timers.delete(m.id);
    return reply({ id: m.id, notSent: 'cancelled' });
  }
  // Never early: a timer may fire up to a millisecond before its time.
  const wait = Math.ceil(m.at.atMs - Date.now());
  if (wait <= 0) return depart(m);
  timers.set(
    m.id,
    setTimeout(() => depart(m), wait),
  );
});

reply({ ready: true });
