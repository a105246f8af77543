import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createMtsClient,
  MAX_MTS_BODY_BYTES,
  type MtsClientOptions,
} from '../../src/mts/client.js';
import type { MtsClient, MtsSendRequest } from '../../src/mts/types.js';
import { freePort, waitFor } from '../helpers/wait.js';
import { failure } from './failure.js';

// The client's HTTP over a bare node:http server on loopback, which answers what each test
// needs (stalls, resets, oversized or non-JSON bodies) where the emulator cannot.

type Handler = (req: IncomingMessage, res: ServerResponse, nth: number) => void;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Which connection (1-based, in order of opening) carried it. */
  socket: number;
}

let server: Server;
let url: string;
let handler: Handler;
let seen: Seen[];
let sockets: Socket[];
let closedSockets: number;
const clients: MtsClient[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const socket = sockets.indexOf(req.socket) + 1;
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        socket,
      });
      const nth = seen.filter((s) => s.socket === socket).length;
      handler(req, res, nth);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.push(s);
    // A connection of an earlier test may close late: count only this test's.
    s.on('close', () => {
      if (sockets.includes(s)) closedSockets++;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  server.closeAllConnections();
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function reset(h: Handler) {
  handler = h;
  seen = [];
  sockets = [];
  closedSockets = 0;
}

const json =
  (status: number, body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

function client(over: Partial<MtsClientOptions> = {}): MtsClient {
  const c = createMtsClient({
    baseUrl: url,
    clientId: '1254',
    login: 'sandbox',
    password: 'sandbox',
    timeoutMs: 2000,
    ...over,
  });
  clients.push(c);
  return c;
}

const req: MtsSendRequest = {
  phone: '+375291234567',
  extraId: 'msg-1',
  text: 'Привет',
  alphaName: 'SANDBOX',
  ttl: 86400,
};

const report = { message_id: 'm-1', extra_id: 'msg-1', status: -1 };

describe('connections', () => {
  it('keeps one connection alive across sequential sends and lookups', async () => {
    reset((r, res, n) =>
      json(200, r.method === 'POST' ? { message_id: `m-${n}` } : report)(r, res, n),
    );
    const c = client();
    for (let i = 1; i <= 5; i++)
      await expect(c.send(req)).resolves.toEqual({ messageId: `m-${i}` });
    await expect(c.statusByExtraId('msg-1')).resolves.toMatchObject({ messageId: 'm-1' });
    expect(seen).toHaveLength(6);
    expect(sockets).toHaveLength(1);
    expect(new Set(seen.map((s) => s.socket))).toEqual(new Set([1]));
  });

  it('sends the body with its Content-Length and the headers MTS expects', async () => {
    reset(json(200, { message_id: 'm-1' }));
    await client().send(req);
    const s = seen[0];
    expect(s?.method).toBe('POST');
    expect(s?.url).toBe('/1254/json2/simple');
    expect(s?.headers).toMatchObject({
      authorization: `Basic ${Buffer.from('sandbox:sandbox').toString('base64')}`,
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(s?.body ?? '')),
    });
    expect(s?.headers['transfer-encoding']).toBeUndefined();
    expect(JSON.parse(s?.body ?? '')).toMatchObject({
      channel_options: { sms: { text: 'Привет' } },
    });
  });

  it('close() ends the kept-alive connection', async () => {
    reset(json(200, { message_id: 'm-1' }));
    const c = client();
    await c.send(req);
    expect(closedSockets).toBe(0);
    c.close();
    await waitFor(() => closedSockets === 1, 'the server to see the connection close', 1000, 10);
  });

  it('maps connection refused to retry, not ambiguous, for sends and lookups', async () => {
    const c = client({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    for (const p of [c.send(req), c.statusByMessageId('m-1')]) {
      const e = await failure(p);
      expect(e).toMatchObject({ action: 'retry', code: 'MTS_UNREACHABLE', ambiguous: false });
      expect(e.message).toContain('ECONNREFUSED');
    }
  });
});

describe('a kept-alive connection MTS closed while idle (reset on reuse, before any answer)', () => {
  /** Answers the first request of each connection; resets the connection on the second. */
  const resetOnReuse =
    (answer: Handler): Handler =>
    (r, res, n) => {
      if (n === 1) answer(r, res, n);
      else r.socket.resetAndDestroy();
    };

  it('a send is not repeated: it fails as a reset, ambiguous, to be looked up by extra_id', async () => {
    reset(resetOnReuse(json(200, { message_id: 'm-1' })));
    const c = client();
    await c.send(req);
    const e = await failure(c.send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_NETWORK', ambiguous: true });
    expect(e.httpStatus).toBeUndefined();
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(2);
  });

  it('a lookup is repeated once on a new connection', async () => {
    reset(resetOnReuse(json(200, report)));
    const c = client();
    await expect(c.statusByMessageId('m-1')).resolves.toMatchObject({ messageId: 'm-1' });
    await expect(c.statusByMessageId('m-1')).resolves.toMatchObject({ messageId: 'm-1' });
    expect(seen.map((s) => s.socket)).toEqual([1, 1, 2]);
  });
});

describe('answers the client cannot use', () => {
  it('a body that stalls is a timeout: retry, ambiguous', async () => {
    reset((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"message_id":');
    });
    const started = Date.now();
    const e = await failure(client({ timeoutMs: 200 }).send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_TIMEOUT', ambiguous: true });
    expect(e.message).toContain('within 200 ms');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a body that is not JSON is a bad answer: ambiguous for a send, not for a lookup', async () => {
    reset((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>OK</html>');
    });
    const c = client();
    expect(await failure(c.send(req))).toMatchObject({
      action: 'retry',
      code: 'MTS_BAD_RESPONSE',
      ambiguous: true,
      httpStatus: 200,
    });
    expect(await failure(c.statusByExtraId('msg-1'))).toMatchObject({
      code: 'MTS_BAD_RESPONSE',
      ambiguous: false,
    });
  });

  it('an empty 2xx body is a bad answer; an empty 500 is a server error', async () => {
    reset((_r, res) => {
      res.writeHead(seen.length === 1 ? 200 : 500);
      res.end();
    });
    const c = client();
    expect(await failure(c.send(req))).toMatchObject({ code: 'MTS_BAD_RESPONSE' });
    expect(await failure(c.send(req))).toMatchObject({
      code: 'MTS_SERVER_ERROR',
      httpStatus: 500,
      ambiguous: true,
    });
  });

  it('takes a body with a UTF-8 byte order mark', async () => {
    reset((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`\ufeff${JSON.stringify({ message_id: 'm-bom' })}`);
    });
    await expect(client().send(req)).resolves.toEqual({ messageId: 'm-bom' });
  });

  const big = JSON.stringify({ message_id: 'm-1', pad: 'x'.repeat(MAX_MTS_BODY_BYTES) });

  it('refuses a body declared larger than 1 MiB, and does not reuse its connection', async () => {
    reset((_r, res) => {
      if (seen.length > 1) return json(200, { message_id: 'm-2' })(_r, res, 0);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(big);
    });
    const c = client();
    const e = await failure(c.send(req));
    expect(e).toMatchObject({ action: 'retry', code: 'MTS_BAD_RESPONSE', ambiguous: true });
    expect(e.message).toContain(`larger than ${MAX_MTS_BODY_BYTES} bytes`);
    await expect(c.send(req)).resolves.toEqual({ messageId: 'm-2' });
    expect(sockets).toHaveLength(2);
  });

  it('refuses a chunked body once it grows past 1 MiB', async () => {
    reset((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // No Content-Length: chunked, so only counting the bytes catches it.
      for (let i = 0; i < big.length; i += 64 * 1024) res.write(big.slice(i, i + 64 * 1024));
      res.end();
    });
    const e = await failure(client().statusByMessageId('m-1'));
    expect(e).toMatchObject({ code: 'MTS_BAD_RESPONSE', ambiguous: false });
    expect(seen[0]?.method).toBe('GET');
  });

  it('passes Retry-After of a 429 through', async () => {
    reset((_r, res) => {
      res.writeHead(429, { 'retry-after': '7' });
      res.end();
    });
    expect(await failure(client().send(req))).toMatchObject({
      action: 'slow',
      code: 'MTS_RATE_LIMITED',
      retryAfterMs: 7000,
    });
  });
});
