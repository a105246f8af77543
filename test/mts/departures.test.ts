import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MtsEmulator, startMtsEmulator } from '../../src/emulators/mts/index.js';
import { createMtsClient } from '../../src/mts/client.js';
import {
  createDepartureGate,
  DEPARTURE_THREAD_EXIT,
  type DepartureGate,
} from '../../src/mts/departures.js';
import type { HttpTransportOptions } from '../../src/mts/http.js';
import type { MtsSendRequest } from '../../src/mts/types.js';
import { failure } from './failure.js';

/**
 * A server in a process of its own that records when each request arrived (its own clock is
 * the same wall clock), so a stalled test process cannot hide a late departure.
 */
const ARRIVALS_SERVER = `
const http = require('node:http');
const arrivals = [];
const s = http.createServer((req, res) => {
  if (req.url === '/arrivals') return res.end(JSON.stringify(arrivals));
  const at = Date.now();
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    arrivals.push({ at, body });
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

let server: ChildProcess;
let base = '';
const transport: HttpTransportOptions = { secure: false, timeoutMs: 1000, maxBodyBytes: 10_000 };
const post = (path: string, body: string) => ({
  method: 'POST' as const,
  url: `${base}${path}`,
  headers: { 'content-type': 'application/json' },
  body,
});
async function arrivals(): Promise<{ at: number; body: string }[]> {
  return (await fetch(`${base}/arrivals`)).json() as Promise<{ at: number; body: string }[]>;
}
/**
 * Waits until the thread is up and settled (as the service does before its sender claims) and
 * its connection open (a send that may leave at once).
 */
async function warm(g: DepartureGate): Promise<void> {
  await g.start();
  const t = Date.now();
  await g.exchange(transport, post('/warm', 'w'), {
    atMs: t,
    maxLateMs: 10_000,
    notAfterMs: t + 10_000,
  });
}
/** Keeps this thread busy for `ms` (a garbage collection, a long transaction…). */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

beforeAll(async () => {
  server = spawn(process.execPath, ['-e', ARRIVALS_SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve) =>
    server.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => {
  server.kill();
});

describe('the departure thread', () => {
  let gate: DepartureGate;
  afterEach(async () => {
    await gate?.close();
  });

  it('sends at the slot even while the main thread is blocked across it', async () => {
    gate = createDepartureGate();
    await warm(gate);
    const t0 = Date.now();
    const slots = [100, 110, 120, 130].map((d) => t0 + d);
    const answers = slots.map((atMs, i) =>
      gate.exchange(transport, post('/send', `m${i}`), {
        atMs,
        maxLateMs: 5,
        notAfterMs: t0 + 5000,
      }),
    );
    // The main thread is busy from before the first slot until after the last one.
    stall(250);
    for (const a of await Promise.all(answers)) expect(a).toMatchObject({ status: 200 });
    const got = (await arrivals()).filter((a) => a.body.startsWith('m'));
    expect(got.map((a) => a.body)).toEqual(['m0', 'm1', 'm2', 'm3']);
    got.forEach((a, i) => {
      const slot = slots[i] as number;
      // Never before its slot; on loopback within a few ms of it (the thread checks ≤ 5 ms).
      expect(a.at).toBeGreaterThanOrEqual(slot);
      expect(a.at - slot).toBeLessThan(50);
    });
  });

  it('start() resolves once the thread has loaded: a request due at once then leaves on time', async () => {
    gate = createDepartureGate();
    // Loading the thread takes ~100-300 ms from the TypeScript sources: a request handed over
    // before then would find its slot long past and come back `late`.
    await gate.start();
    const t = Date.now() + 20;
    expect(
      await gate.exchange(transport, post('/send', 'first'), {
        atMs: t,
        maxLateMs: 15,
        notAfterMs: t + 5000,
      }),
    ).toMatchObject({ status: 200 });
  });

  it('close() while start() waits ends the wait at once', async () => {
    gate = createDepartureGate();
    const started = gate.start();
    await gate.close();
    const t = Date.now();
    await started;
    // Not the 10 s load timeout nor the 2 s settle budget.
    expect(Date.now() - t).toBeLessThan(500);
  });

  it('does not send what would leave later than allowed, or after the claim deadline', async () => {
    gate = createDepartureGate();
    await warm(gate);
    const t = Date.now();
    expect(
      await gate.exchange(transport, post('/send', 'late'), {
        atMs: t - 100,
        maxLateMs: 5,
        notAfterMs: t + 5000,
      }),
    ).toEqual({ notSent: 'late' });
    expect(
      await gate.exchange(transport, post('/send', 'stale'), {
        atMs: t + 20,
        maxLateMs: 10_000,
        notAfterMs: t + 10,
      }),
    ).toEqual({ notSent: 'stale' });
    const bodies = (await arrivals()).map((a) => a.body);
    expect(bodies).not.toContain('late');
    expect(bodies).not.toContain('stale');
  });

  it('a stop cancels what has not left; what has left gets its answer', async () => {
    gate = createDepartureGate();
    const stop = new AbortController();
    const t = Date.now();
    const gone = gate.exchange(
      transport,
      post('/slow', 'gone'),
      { atMs: t, maxLateMs: 1000, notAfterMs: t + 5000 },
      stop.signal,
    );
    const waiting = gate.exchange(
      transport,
      post('/send', 'waiting'),
      { atMs: t + 1500, maxLateMs: 5, notAfterMs: t + 5000 },
      stop.signal,
    );
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    expect(await waiting).toEqual({ notSent: 'cancelled' });
    // The slow answer comes after 2 s, beyond the transport's 1 s deadline: a timeout.
    await expect(gone).rejects.toMatchObject({ name: 'TimeoutError' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await arrivals()).map((a) => a.body)).not.toContain('waiting');
  });

  it('a refused connection comes back with its code (not sent); a closed thread rejects what waits', async () => {
    gate = createDepartureGate();
    const t = Date.now();
    await expect(
      gate.exchange(
        transport,
        { method: 'POST', url: 'http://127.0.0.1:1/x', headers: {}, body: '{}' },
        { atMs: t, maxLateMs: 1000, notAfterMs: t + 5000 },
      ),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const pending = gate.exchange(transport, post('/send', 'never'), {
      atMs: Date.now() + 5000,
      maxLateMs: 5,
      notAfterMs: Date.now() + 10_000,
    });
    expect(gate.pending).toBe(1);
    await gate.close();
    await expect(pending).rejects.toMatchObject({ code: DEPARTURE_THREAD_EXIT });
    // The next use starts a new thread.
    const n = Date.now();
    expect(
      await gate.exchange(transport, post('/send', 'again'), {
        atMs: n,
        maxLateMs: 1000,
        notAfterMs: n + 5000,
      }),
    ).toMatchObject({ status: 200 });
  });
});

describe('MtsClient.sendAt (the client over the departure thread)', () => {
  let emu: MtsEmulator;
  let gate: DepartureGate;
  beforeAll(async () => {
    emu = await startMtsEmulator({ alphaNames: ['SANDBOX'], dlr: { delayMs: 10_000 } });
    gate = createDepartureGate();
  });
  afterEach(() => emu.reset());
  afterAll(async () => {
    await gate.close();
    await emu.close();
  });
  const req: MtsSendRequest = {
    phone: '+375291234567',
    extraId: 'msg-at-1',
    text: 'Hello',
    alphaName: 'SANDBOX',
    ttl: 86400,
  };
  const client = () =>
    createMtsClient({
      baseUrl: emu.url,
      clientId: emu.clientId,
      login: 'sandbox',
      password: 'sandbox',
      timeoutMs: 2000,
      departures: gate,
    });

  it('submits the same request as send() and reads the same answers', async () => {
    const c = client();
    const t = Date.now();
    const at = { atMs: t + 30, maxLateMs: 1000, notAfterMs: t + 5000 };
    const r = await c.sendAt?.(req, at);
    expect(r).toMatchObject({ messageId: expect.any(String) });
    expect(emu.sent.map((s) => [s.extraId, s.phone, s.alphaName, s.text])).toEqual([
      ['msg-at-1', '375291234567', 'SANDBOX', 'Hello'],
    ]);
    // An error inside an HTTP 200 (balance exhausted) is the same MtsError as from send().
    emu.setFault('balance');
    const viaThread = await failure(
      c.sendAt?.({ ...req, extraId: 'msg-at-2' }, at) as Promise<unknown>,
    );
    const inline = await failure(c.send({ ...req, extraId: 'msg-at-3' }));
    expect(viaThread.code).toBe(inline.code);
    expect(viaThread.action).toBe('pause');
    c.close();
  });

  it('an unreachable MTS through the thread is "not sent" (no lookup needed), like send()', async () => {
    const c = createMtsClient({
      baseUrl: 'http://127.0.0.1:1',
      clientId: '1',
      login: 'a',
      password: 'b',
      timeoutMs: 1000,
      departures: gate,
    });
    const t = Date.now();
    const e = await failure(
      c.sendAt?.(req, { atMs: t, maxLateMs: 1000, notAfterMs: t + 5000 }) as Promise<unknown>,
    );
    expect(e.code).toBe('MTS_UNREACHABLE');
    expect(e.ambiguous).toBe(false);
    c.close();
  });
});
