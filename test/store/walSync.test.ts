import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWalSync } from '../../src/store/dialects/walSync.js';
import { type Connection, connect, migrate } from '../../src/store/index.js';

describe('WAL fsync off the event loop', () => {
  it('coalesces: callers arriving during an fsync share the next one, which starts after it', async () => {
    const log: string[] = [];
    const pending: (() => void)[] = [];
    const wal = makeWalSync('x-wal', {
      sync: async () => {
        log.push('start');
        await new Promise<void>((r) => pending.push(r));
        log.push('end');
      },
      close: () => {},
    });
    const first = wal.durable();
    const a = wal.durable();
    const b = wal.durable();
    expect(a).toBe(b); // one shared follow-up fsync
    expect(wal.syncs).toBe(1);
    pending.shift()?.();
    await first;
    await new Promise((r) => setImmediate(r));
    // The follow-up started only after the first ended: it covers a's and b's commits.
    expect(log).toEqual(['start', 'end', 'start']);
    pending.shift()?.();
    await Promise.all([a, b]);
    expect(wal.syncs).toBe(2);
  });

  it('a failed fsync fails its callers, and the next caller gets a new attempt', async () => {
    let fail = true;
    const wal = makeWalSync('x-wal', {
      sync: async () => {
        if (fail) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      },
      close: () => {},
    });
    await expect(wal.durable()).rejects.toThrow('EIO');
    fail = false;
    await expect(wal.durable()).resolves.toBeUndefined();
  });

  describe('on a SQLite file', () => {
    let dir: string;
    let conn: Connection;
    afterEach(async () => {
      await conn?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const open = async () => {
      dir = mkdtempSync(join(tmpdir(), 'b24mts-wal-'));
      conn = connect(`sqlite:${join(dir, 'db.sqlite')}`);
      await migrate(conn);
      return conn;
    };
    const syncs = () => conn.walSyncs?.() ?? -1;

    it('waits for an fsync after each committed write, never after reads or read-only transactions', async () => {
      await open();
      expect((await sql<{ s: string }>`pragma synchronous`.execute(conn.db)).rows[0]).toBeDefined();
      let n = syncs();
      await conn.db.selectFrom('leases').selectAll().execute();
      await conn.db.transaction().execute((trx) => trx.selectFrom('leases').selectAll().execute());
      expect(syncs()).toBe(n);

      // A write outside a transaction (autocommit).
      await conn.db
        .insertInto('leases')
        .values({ name: '+375291111111', holder: 'test', expires_at: 1 })
        .execute();
      expect(syncs()).toBe(n + 1);
      n = syncs();

      // INSERT … RETURNING is a "reader" to SQLite, but it writes.
      await conn.db
        .insertInto('leases')
        .values({ name: '+375291111112', holder: 'test', expires_at: 1 })
        .returningAll()
        .execute();
      expect(syncs()).toBe(n + 1);
      n = syncs();

      // A transaction with writes: one fsync at its commit.
      await conn.db.transaction().execute(async (trx) => {
        for (const p of ['+375291111113', '+375291111114'])
          await trx
            .insertInto('leases')
            .values({ name: p, holder: 'test', expires_at: 1 })
            .execute();
      });
      expect(syncs()).toBe(n + 1);
      n = syncs();

      // A rolled-back transaction committed nothing.
      await expect(
        conn.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('leases')
            .values({ name: '+375291111115', holder: 'test', expires_at: 1 })
            .execute();
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(syncs()).toBe(n);
    });

    it('concurrent commits share fsyncs, and each caller resumes only after one covering it', async () => {
      await open();
      const before = syncs();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          conn.db
            .insertInto('leases')
            .values({ name: `lease-${i}`, holder: 'test', expires_at: 1 })
            .execute(),
        ),
      );
      const used = syncs() - before;
      expect(used).toBeGreaterThanOrEqual(1);
      expect(used).toBeLessThan(20);
      const rows = await conn.db.selectFrom('leases').select('name').execute();
      expect(rows).toHaveLength(20);
    });
  });
});
