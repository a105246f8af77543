import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log.js';

/** A Fastify app of ours whose log lines are kept, with one route that logs. */
async function appWithLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  const app = createHttpApp({ bodyLimit: 1024, logger: createLogger('info', sink) });
  app.get('/work', async (req) => {
    req.log.warn('something worth a line');
    return { id: req.id };
  });
  await app.ready();
  return { app, lines };
}

describe('X-Request-Id', () => {
  it("keeps the caller's id, answers it, and puts it in the request's log lines", async () => {
    const { app, lines } = await appWithLog();
    const res = await app.inject({ url: '/work', headers: { 'x-request-id': 'lb-7f3a.42' } });
    expect(res.headers['x-request-id']).toBe('lb-7f3a.42');
    expect(res.json()).toEqual({ id: 'lb-7f3a.42' });
    expect(lines.find((l) => l.msg === 'something worth a line')).toMatchObject({
      reqId: 'lb-7f3a.42',
    });
    await app.close();
  });

  it('makes one when there is none, or when the given one is not a plain token', async () => {
    const { app } = await appWithLog();
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const headers of [
      {},
      { 'x-request-id': 'two words' },
      { 'x-request-id': 'x'.repeat(200) },
    ]) {
      const res = await app.inject({ url: '/work', headers });
      expect(res.headers['x-request-id']).toMatch(uuid);
    }
    // Each request its own.
    const a = await app.inject({ url: '/work' });
    const b = await app.inject({ url: '/work' });
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    // Errors answer it too.
    expect((await app.inject({ url: '/nowhere' })).headers['x-request-id']).toMatch(uuid);
    await app.close();
  });
});
