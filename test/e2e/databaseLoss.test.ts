import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LOST_NOTE_SUFFIX } from '../../src/store/dialects/sqlite.js';
import { runCli, spawnService } from '../helpers/child.js';
import { pgAvailable, TEST_PG_URL } from '../helpers/db.js';
import { type ChildHarness, startChildHarness } from '../helpers/harness.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';
import { waitFor } from '../helpers/wait.js';

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const alive = (h: ChildHarness) =>
  h.proc.child.exitCode === null && h.proc.child.signalCode === null;

/**
 * The database fails under a running service, as an operator would see it: the service
 * survives, refuses to acknowledge what it cannot store, says why on /readyz, and goes on
 * when the database is back.
 */
describe.runIf(pgAvailable)('PostgreSQL connections lost under a running service', () => {
  let h: ChildHarness | undefined;
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await h?.close();
  });

  it('survives pg_terminate_backend and an outage; /readyz is 503 meanwhile; work resumes', async () => {
    const pgUrl = new URL(TEST_PG_URL);
    const p = await startTcpProxy({
      host: pgUrl.hostname,
      port: Number(pgUrl.port || 5432),
    });
    proxy = p;
    const appName = `b24svc_${randomBytes(4).toString('hex')}`;
    const harness = await startChildHarness({
      dialect: 'postgres',
      mts: { dlr: { delayMs: 50 } },
      databaseUrl: (db) => {
        const u = new URL(TEST_PG_URL);
        u.port = String(p.port);
        u.searchParams.set('schema', db.schema as string);
        u.searchParams.set('application_name', appName);
        return u.toString();
      },
    });
    h = harness;
    const send = (text: string, messageId?: string) =>
      harness.b24.sendFromCard({
        to: '+375291234567',
        text,
        ...(messageId ? { messageId } : {}),
      });

    const first = await send('before');
    expect(first.status).toBe(200);
    await waitFor(
      () => harness.b24.latestStatus(first.messageId) === 'delivered',
      'first delivered',
    );

    // An administrator terminates every backend of the service from a second connection.
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [appName],
      );
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(alive(harness), harness.proc.output()).toBe(true);
    const second = await send('after terminate').catch((err) => {
      throw new Error(`${err}\n${harness.proc.output()}`);
    });
    expect(second.status).toBe(200);
    await waitFor(
      () => harness.b24.latestStatus(second.messageId) === 'delivered',
      'delivered after the backends were terminated',
      20_000,
    );

    // The database becomes unreachable.
    await p.cut();
    await waitFor(
      async () =>
        (
          await readyz(harness.url).catch((err) => {
            throw new Error(`${err}\n${harness.proc.output()}`);
          })
        ).status === 503,
      '/readyz 503',
    );
    const down = await readyz(harness.url);
    expect(down.body).toMatchObject({ ok: false, database: 'postgres' });
    expect(String(down.body.reason)).toMatch(/^database: /);
    const refused = await send('during the outage');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'database_unavailable' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(alive(harness), harness.proc.output()).toBe(true);

    // Back: ready again, and the refused message (posted again) goes out.
    await p.restore();
    await waitFor(async () => (await readyz(harness.url)).status === 200, '/readyz 200', 20_000);
    const again = await send('during the outage', refused.messageId);
    expect(again.status).toBe(200);
    await waitFor(
      () => harness.b24.latestStatus(refused.messageId) === 'delivered',
      'delivered after the outage',
      30_000,
    );
    expect(alive(harness)).toBe(true);
  }, 120_000);
});

describe('SQLite file removed under a running service', () => {
  let h: ChildHarness | undefined;
  afterEach(async () => {
    await h?.close();
  });

  it('stops acknowledging, says why on /readyz, and only `migrate` creates a new database', async () => {
    const harness = await startChildHarness({ dialect: 'sqlite' });
    h = harness;
    const path = harness.db.url.slice('sqlite:'.length);
    const ok = await harness.b24.sendFromCard({ to: '+375291234567', text: 'stored' });
    expect(ok.status).toBe(200);

    rmSync(dirname(path), { recursive: true, force: true });

    const refused = await harness.b24.sendFromCard({ to: '+375291234567', text: 'lost?' });
    expect(refused.status).toBe(503);
    const r = await readyz(harness.url);
    expect(r.status).toBe(503);
    expect(String(r.body.reason)).toMatch(/deleted/);
    expect(alive(harness)).toBe(true);
    // Nothing was created in its place; a note says what happened.
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}${LOST_NOTE_SUFFIX}`)).toBe(true);

    expect(await harness.proc.stop()).toBe(0);
    // A restart does not start over on an empty database…
    const restart = await runCli(['serve'], harness.env);
    expect(restart.code).toBe(1);
    expect(restart.output).toMatch(/does not exist.*migrate/s);
    expect(existsSync(path)).toBe(false);
    // …only an explicit migrate does.
    const migrated = await runCli(['migrate'], harness.env);
    expect(migrated.code, migrated.output).toBe(0);
    expect(existsSync(path)).toBe(true);
    harness.proc = await spawnService(harness.env, harness.url);
    expect((await readyz(harness.url)).status).toBe(200);
  }, 60_000);
});
