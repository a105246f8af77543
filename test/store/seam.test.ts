import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The store seam (docs/architecture.md): outside src/store, code reaches storage only through
// src/store/index.ts, and writes no SQL of its own. Tests may reach anywhere.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/** What code outside the store must not do, by line. */
const FORBIDDEN: { re: RegExp; what: string }[] = [
  { re: /\.(selectFrom|updateTable|insertInto|deleteFrom)\(/, what: 'a Kysely query' },
  { re: /\bsql`/, what: 'an sql`…` template' },
  { re: /\.transaction\(\)/, what: 'a transaction of its own (use inTransaction)' },
  { re: /\.db\b/, what: "a connection's Kysely handle (.db)" },
];

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'([^']+)'/g;

/**
 * Where `text` (the file `path`, relative to the repository root) breaks the seam: an import
 * of a store module other than src/store/index.ts, of Kysely itself, or a query, SQL template
 * or transaction written in place. One `path:line: what` per finding.
 */
function seamViolations(path: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const at = `${path}:${i + 1}`;
    const code = line.trimStart();
    if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
    for (const m of line.matchAll(IMPORT)) {
      const spec = m[1] as string;
      if (spec === 'kysely') found.push(`${at}: imports kysely (storage belongs in src/store)`);
      if (!spec.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(path), spec));
      if (target.startsWith('src/store/') && target !== 'src/store/index.js')
        found.push(`${at}: imports ${spec} (import it from the store's index.ts)`);
    }
    for (const { re, what } of FORBIDDEN)
      if (re.test(line)) found.push(`${at}: ${what} outside src/store`);
  });
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('the store seam', () => {
  it('code outside src/store imports only src/store/index.ts and writes no SQL', () => {
    const files = sourceFiles(SRC)
      .map((f) => relative(ROOT, f).split('\\').join('/'))
      .filter((f) => !f.startsWith('src/store/'));
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => seamViolations(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(found).toEqual([]);
  });

  it('names the file and line of each kind of violation', () => {
    const fixture = [
      "import { listPortals } from '../store/portals.js';",
      "import type { Connection } from '../store/dialects/types.js';",
      "import { migrate } from '../store/index.js';",
      "import { getPortal } from '../../store/portals.js';",
      "import { sql } from 'kysely';",
      "const m = await import('../store/outbox.js');",
      'await conn.db',
      "  .selectFrom('messages')",
      "await trx.updateTable('robot_jobs').set({ state: 'queued' });",
      "await tx.insertInto('x').values({});",
      "await tx.deleteFrom('x').execute();",
      'await sql`select 1`.execute(handle);',
      'await handle.transaction().execute(async () => {});',
      '// conn.db.selectFrom( in a comment is fine',
    ].join('\n');
    expect(seamViolations('src/workers/x.ts', fixture)).toEqual([
      "src/workers/x.ts:1: imports ../store/portals.js (import it from the store's index.ts)",
      "src/workers/x.ts:2: imports ../store/dialects/types.js (import it from the store's index.ts)",
      'src/workers/x.ts:5: imports kysely (storage belongs in src/store)',
      "src/workers/x.ts:6: imports ../store/outbox.js (import it from the store's index.ts)",
      "src/workers/x.ts:7: a connection's Kysely handle (.db) outside src/store",
      'src/workers/x.ts:8: a Kysely query outside src/store',
      'src/workers/x.ts:9: a Kysely query outside src/store',
      'src/workers/x.ts:10: a Kysely query outside src/store',
      'src/workers/x.ts:11: a Kysely query outside src/store',
      'src/workers/x.ts:12: an sql`…` template outside src/store',
      'src/workers/x.ts:13: a transaction of its own (use inTransaction) outside src/store',
    ]);
    // Line 4 climbs out of src: `../../store` from src/workers is not src/store.
    expect(
      seamViolations('src/http/routes/x.ts', "import { a } from '../../store/portals.js';"),
    ).toEqual([
      "src/http/routes/x.ts:1: imports ../../store/portals.js (import it from the store's index.ts)",
    ]);
    expect(seamViolations('src/service.ts', "import { a } from './store/claims.js';")).toHaveLength(
      1,
    );
    expect(seamViolations('src/service.ts', "import { a } from './store/index.js';")).toEqual([]);
  });
});
