import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, connect, makeGroupCommit, migrate } from '../../src/store/index.js';

describe('group commit', () => {
  let dir: string;
  let conn: Connection;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'b24mts-group-'));
    conn = connect(`sqlite:${join(dir, 'db.sqlite')}`);
    await migrate(conn);
  });
  afterEach(async () => {
    await conn.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  const lease = (name: string) => (c: Connection) =>
    c.db.insertInto('leases').values({ name, holder: 'h', expires_at: 1 }).execute();
  const names = async () =>
    (await conn.db.selectFrom('leases').select('name').orderBy('name').execute()).map(
      (r) => r.name,
    );

  it('a lingering job waits, then rides along with the next urgent one: one commit for both', async () => {
    const group = makeGroupCommit(conn);
    let lazyDone = false;
    const lazy = group.run(lease('lazy'), { lingerMs: 60_000 }).then(() => {
      lazyDone = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(lazyDone).toBe(false);
    expect(await names()).toEqual([]);
    const syncs = conn.walSyncs?.() ?? 0;
    await group.run(lease('urgent'));
    await lazy;
    expect(await names()).toEqual(['lazy', 'urgent']);
    expect((conn.walSyncs?.() ?? 0) - syncs).toBe(1);
  });

  it('a lingering job alone commits when its time is up', async () => {
    const group = makeGroupCommit(conn);
    const t0 = performance.now();
    await group.run(lease('alone'), { lingerMs: 80 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    expect(await names()).toEqual(['alone']);
  });

  it('one bad job fails alone; the others of its group commit', async () => {
    const group = makeGroupCommit(conn, { lingerMs: 20 });
    const results = await Promise.allSettled([
      group.run(lease('a')),
      group.run(lease('a')), // primary key violation
      group.run(lease('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await names()).toEqual(['a', 'b']);
  });

  it('when no transaction can start, every waiting job gets the error instead of waiting forever', async () => {
    const group = makeGroupCommit(conn, { lingerMs: 5 });
    await conn.close();
    const results = await Promise.allSettled([group.run(lease('x')), group.run(lease('y'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
