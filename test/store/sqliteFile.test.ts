import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { LOST_NOTE_SUFFIX, SQLITE_CACHE_KIB } from '../../src/store/dialects/sqlite.js';
import {
  connect,
  DatabaseMissingError,
  DatabaseUnavailableError,
  migrate,
} from '../../src/store/index.js';

/** When a SQLite database may be created, and what happens when its file goes away. */
describe('SQLite database file', () => {
  let root: string;
  const opened: { close(): Promise<void> }[] = [];
  const open = (path: string, create?: 'always' | 'fresh') => {
    const conn = connect(`sqlite:${path}`, create ? { create } : {});
    opened.push(conn);
    return conn;
  };
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((c) => c.close()));
    rmSync(root, { recursive: true, force: true });
  });
  const fresh = () => {
    root = mkdtempSync(join(tmpdir(), 'b24mts-file-'));
    return root;
  };

  it('a fresh install creates the folder and the database', async () => {
    const path = join(fresh(), 'data', 'db.sqlite');
    await migrate(open(path));
    expect(existsSync(path)).toBe(true);
  });

  it('runs in WAL mode with its own page-cache size, not the build default of 16 MiB', async () => {
    const conn = open(join(fresh(), 'db.sqlite'));
    const one = async (pragma: string) =>
      Object.values((await sql.raw(`pragma ${pragma}`).execute(conn.db)).rows[0] as object)[0];
    expect(await one('journal_mode')).toBe('wal');
    expect(await one('cache_size')).toBe(-SQLITE_CACHE_KIB);
    expect(SQLITE_CACHE_KIB).toBeLessThan(16_000);
  });

  it('an existing empty folder (a new volume) is a fresh install too; dotfiles do not count', async () => {
    const dir = join(fresh(), 'volume');
    mkdirSync(dir);
    writeFileSync(join(dir, '.keep'), '');
    await migrate(open(join(dir, 'db.sqlite')));
    expect(existsSync(join(dir, 'db.sqlite'))).toBe(true);
  });

  it('a missing database in a folder with other files is refused, unless migrate creates it', async () => {
    const dir = join(fresh(), 'data');
    mkdirSync(dir);
    writeFileSync(join(dir, 'db.sqlite-wal'), '');
    const path = join(dir, 'db.sqlite');
    expect(() => open(path)).toThrow(DatabaseMissingError);
    expect(() => open(path)).toThrow(/does not exist.*db\.sqlite-wal.*b24-mts-sms migrate/s);
    expect(existsSync(path)).toBe(false);
    await migrate(open(path, 'always'));
    expect(existsSync(path)).toBe(true);
  });

  it('a file deleted or replaced under an open connection fails every write, then every statement', async () => {
    const dir = join(fresh(), 'data');
    const path = join(dir, 'db.sqlite');
    const conn = open(path);
    await migrate(conn);
    await sql`select 1`.execute(conn.db);
    // Replaced: another file now stands at the path (a restored backup copied in place).
    renameSync(path, `${path}.old`);
    writeFileSync(path, '');
    await expect(
      conn.db.insertInto('leases').values({ name: 'x', holder: 'h', expires_at: 1 }).execute(),
    ).rejects.toThrow(DatabaseUnavailableError);
    await expect(sql`select 1`.execute(conn.db)).rejects.toThrow(/replaced by another file/);

    const other = join(root, 'x', 'db.sqlite');
    const conn2 = open(other);
    await migrate(conn2);
    rmSync(join(root, 'x'), { recursive: true, force: true });
    // Readiness checks ask directly (reads alone do not stat the file).
    expect(() => conn2.assertIntact?.()).toThrow(/was deleted/);
    await expect(sql`select 1`.execute(conn2.db)).rejects.toThrow(/was deleted/);
    // The note stands where the database was, so a restart does not start over there.
    expect(existsSync(`${other}${LOST_NOTE_SUFFIX}`)).toBe(true);
    expect(existsSync(other)).toBe(false);
    expect(() => open(other)).toThrow(DatabaseMissingError);
  });
});
