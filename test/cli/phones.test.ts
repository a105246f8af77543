import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { normalizePhone } from '../../src/domain/phone.js';
import {
  type Bitrix24Emulator,
  ENTITY_TYPE,
  startBitrix24Emulator,
} from '../../src/emulators/bitrix24/index.js';
import { seedSampleCrm } from '../../src/emulators/bitrix24/sampleCrm.js';
import { CRAFTED_TALLY, seedCrafted } from '../core/phones/env.js';
import { spawnCli } from '../helpers/child.js';
import { createTestDb, installEmulatedPortal, type TestDb } from '../helpers/db.js';
import { waitFor } from '../helpers/wait.js';

// Each CLI run is a Node process compiling the sources (tsx): several seconds apiece, and more
// beside a busy neighbour. A test of a few runs gets more than the suite's default 30 s.
vi.setConfig({ testTimeout: 90_000 });

let db: TestDb;
let emu: Bitrix24Emulator;
let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  db = await createTestDb('sqlite');
  emu = await startBitrix24Emulator({ domain: 'phones.bitrix24.by' });
  await installEmulatedPortal(db.conn, emu);
  dir = mkdtempSync(join(tmpdir(), 'b24mts-phones-'));
  env = {
    DATABASE_URL: db.url,
    B24_CLIENT_ID: emu.clientId,
    B24_CLIENT_SECRET: emu.clientSecret,
    B24_OAUTH_URL: emu.url,
    LOG_LEVEL: 'warn',
  };
});

afterEach(async () => {
  await emu.close();
  await db.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `b24-mts-sms <args>` as a child process; stdout and stderr apart. */
async function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const p = spawnCli(args, { ...env, ...extraEnv });
  let stdout = '';
  let stderr = '';
  p.child.stdout?.on('data', (d) => (stdout += d));
  p.child.stderr?.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => p.child.once('exit', (c) => r(c)));
  return { code, stdout, stderr };
}

/** One record's PHONE values as stored (none when it has no phone). */
function stored(t: 'CONTACT' | 'LEAD' | 'COMPANY', id: number) {
  return (emu.crm.get(ENTITY_TYPE[t], id)?.PHONE ?? []) as { ID: string; VALUE: string }[];
}

/** Every PHONE value of the CRM, by type and record, as stored. */
function phonesOf(e: Bitrix24Emulator) {
  return (['CONTACT', 'LEAD', 'COMPANY'] as const).flatMap((t) =>
    e.crm.all(ENTITY_TYPE[t]).map((r) => ({
      type: t,
      id: r.ID,
      phones: structuredClone(r.PHONE ?? []) as { ID: string; VALUE: string; VALUE_TYPE: string }[],
    })),
  );
}

/**
 * The CRM as a complete fix must leave it, worked out here without the code under test:
 * the first spelling of each mobile number (contacts, leads, companies, by ID) becomes
 * `+375…`; repeats and everything else stay byte for byte.
 */
function expectedAfterFix(before: ReturnType<typeof phonesOf>) {
  const seen = new Set<string>();
  return before.map((r) => ({
    ...r,
    phones: r.phones.map((p) => {
      const n = normalizePhone(p.VALUE);
      if (!n.ok || seen.has(n.phone)) return p;
      seen.add(n.phone);
      return { ...p, VALUE: n.phone };
    }),
  }));
}

describe('phones scan (CLI)', () => {
  it('--json prints exactly the SPEC shape; --out writes the CSV with RFC 4180 quoting', async () => {
    seedCrafted(emu);
    const out = join(dir, 'scan.csv');
    const r = await cli(['phones', 'scan', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toEqual({
      ...CRAFTED_TALLY,
      // One count + one batch per type.
      rest_requests: 4,
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines[0]).toBe('entity,id,value_id,value_type,original,normalized,verdict');
    const v = (e: string, id: number, i: number) => stored(e as 'CONTACT', id)[i]?.ID;
    expect(lines.slice(1)).toEqual([
      `contact,1,${v('CONTACT', 1, 0)},MOBILE,+375291234567,+375291234567,ok`,
      `contact,1,${v('CONTACT', 1, 1)},WORK,8 029 765-43-21,+375297654321,fixable`,
      `contact,1,${v('CONTACT', 1, 2)},WORK,+375 17 222-33-44,,landline`,
      `contact,3,${v('CONTACT', 3, 0)},HOME,+79161234567,,foreign`,
      `contact,3,${v('CONTACT', 3, 1)},OTHER,"call ""Ivan"", after 6",,malformed`,
      `contact,3,${v('CONTACT', 3, 2)},MOBILE,80291234567,+375291234567,duplicate`,
      `lead,1,${v('LEAD', 1, 0)},MOBILE,375 29 765-43-21,+375297654321,duplicate`,
      `lead,1,${v('LEAD', 1, 1)},MOBILE,(033) 111-22-33,+375331112233,fixable`,
      `company,1,${v('COMPANY', 1, 0)},WORK,+375 17 200-00-00,,landline`,
      '',
    ]);
    // Progress went to stderr, never stdout.
    expect(r.stderr).toContain('scan: 5/5 records');
  });

  it('without --json prints a summary; --entities limits the types', async () => {
    seedCrafted(emu);
    const r = await cli(['phones', 'scan', '--entities', 'lead,contact']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('scanned 4 records (contact 3, lead 1): 8 phone values');
    expect(r.stdout).toMatch(/fixable\s+2/);
    expect(r.stdout).toMatch(/duplicate\s+2/);
  });

  it('sandbox mode, an unknown type, --smart-process and an ambiguous portal are usage errors (exit 2)', async () => {
    const sandbox = await cli(['phones', 'scan'], { B24_CLIENT_ID: '', B24_CLIENT_SECRET: '' });
    expect(sandbox.code).toBe(2);
    expect(sandbox.stderr).toContain('sandbox mode');
    expect(sandbox.stderr).toContain('B24_CLIENT_ID');
    const bad = await cli(['phones', 'scan', '--entities', 'deal']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--entities takes contact, lead, company');
    const smart = await cli(['phones', 'scan', '--smart-process', '1036']);
    expect(smart.code).toBe(2);
    expect(smart.stderr).toContain('no PHONE multifield');
    const other = await startBitrix24Emulator({ domain: 'other.bitrix24.by' });
    try {
      await installEmulatedPortal(db.conn, other);
      const two = await cli(['phones', 'scan', '--json']);
      expect(two.code).toBe(2);
      expect(two.stderr).toContain('choose one with --portal');
      expect(two.stderr).toContain('other.bitrix24.by');
      expect(two.stdout).toBe('');
      other.addContact({ PHONE: ['8 029 111-22-33'] });
      const chosen = await cli(['phones', 'scan', '--json', '--portal', 'other.bitrix24.by']);
      expect(chosen.code, chosen.stderr).toBe(0);
      expect(JSON.parse(chosen.stdout)).toMatchObject({ values: 1, fixable: 1 });
    } finally {
      await other.close();
    }
  });
});

describe('phones fix (CLI)', () => {
  it('a dry run changes nothing and says what would change', async () => {
    seedCrafted(emu);
    const before = phonesOf(emu);
    const r = await cli(['phones', 'fix']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('contact 1: value');
    expect(r.stdout).toContain('"8 029 765-43-21" → +375297654321');
    expect(r.stdout).toContain('dry run');
    const json = await cli(['phones', 'fix', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      fixed: 2,
      unchanged: 1,
      skipped: 6,
      errors: 0,
      stale: 0,
    });
    expect(phonesOf(emu)).toEqual(before);
  });

  // Three CLI runs over 3,500 records: ~21 s alone, up to half again beside a busy neighbour.
  it('--apply killed half-way, run again: the CRM is exactly fixed; a third run fixes nothing', async () => {
    seedSampleCrm(emu, { contacts: 3_000, leads: 400, companies: 100, seed: 11 });
    const before = phonesOf(emu);
    const expected = expectedAfterFix(before);
    const toFix = expected
      .flatMap((r, i) => r.phones.map((p, j) => [p.VALUE, before[i]?.phones[j]?.VALUE]))
      .filter(([a, b]) => a !== b).length;
    expect(toFix).toBeGreaterThan(1_000);
    const fixedNow = () =>
      phonesOf(emu)
        .flatMap((r, i) => r.phones.map((p, j) => p.VALUE !== before[i]?.phones[j]?.VALUE))
        .filter(Boolean).length;
    // A slow REST budget (4 requests/s, no burst) so the writes take seconds.
    const slow = { B24_RATE: '4', B24_BURST: '1' };
    const p = spawnCli(['phones', 'fix', '--apply', '--json'], { ...env, ...slow });
    await waitFor(
      async () => {
        if (p.child.exitCode !== null) throw new Error(`fix ended early:\n${p.output()}`);
        return fixedNow() > toFix / 4;
      },
      'a quarter of the values to be written',
      60_000,
      10,
    );
    await p.kill9();
    const partial = fixedNow();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(toFix);

    const second = await cli(['phones', 'fix', '--apply', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const s = JSON.parse(second.stdout);
    expect(s.fixed).toBe(toFix - partial);
    expect(s.errors).toBe(0);
    expect(phonesOf(emu)).toEqual(expected);

    const third = await cli(['phones', 'fix', '--apply', '--json']);
    expect(JSON.parse(third.stdout)).toMatchObject({ fixed: 0, errors: 0 });
    expect(phonesOf(emu)).toEqual(expected);
  }, 90_000);

  it('--from a stale CSV: a value a manager changed since the scan is skipped, not overwritten', async () => {
    seedCrafted(emu);
    const csv = join(dir, 'scan.csv');
    expect((await cli(['phones', 'scan', '--out', csv])).code).toBe(0);
    // A manager rewrites the first fixable value after the scan.
    const edited = stored('CONTACT', 1)[1] as { ID: string; VALUE: string };
    emu.crm.update(ENTITY_TYPE.CONTACT, 1, {
      PHONE: [{ ID: edited.ID, VALUE: '+375 44 999-88-77' }],
    });
    const r = await cli(['phones', 'fix', '--from', csv, '--apply', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      fixed: 1,
      unchanged: 1,
      // landline 2, foreign, malformed, duplicate 2, and the stale one.
      skipped: 7,
      stale: 1,
      errors: 0,
    });
    expect(stored('CONTACT', 1).map((p) => p.VALUE)).toEqual([
      '+375291234567',
      '+375 44 999-88-77',
      '+375 17 222-33-44',
    ]);
    expect(stored('LEAD', 1).map((p) => p.VALUE)).toEqual(['375 29 765-43-21', '+375331112233']);
    // Run again from the same CSV: the applied value is unchanged now, nothing written.
    const again = await cli(['phones', 'fix', '--from', csv, '--apply', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({
      fixed: 0,
      unchanged: 2,
      skipped: 7,
      stale: 1,
    });
  });

  it('--from refuses a file that is not a scan report (exit 2)', async () => {
    const bad = join(dir, 'bad.csv');
    await import('node:fs').then((fs) => fs.writeFileSync(bad, 'phone,name\n+375291234567,x\n'));
    const r = await cli(['phones', 'fix', '--from', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a `phones scan` report');
  });

  it('--mark-field creates the boolean field and marks records without a valid mobile number', async () => {
    seedCrafted(emu);
    // The contacts already have the field, and contact 3 is wrongly marked Y.
    emu.addUserField('contact', 'UF_CRM_NO_MOBILE', 'boolean');
    emu.crm.update(ENTITY_TYPE.CONTACT, 3, { UF_CRM_NO_MOBILE: 'Y' });
    const args = ['phones', 'fix', '--apply', '--mark-field', 'UF_CRM_NO_MOBILE', '--json'];
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    // Y on contact 2 (no phone) and the company (a landline only); N on contact 3. The
    // others already read N (an unset boolean field reads "0").
    expect(JSON.parse(r.stdout)).toMatchObject({ fixed: 2, marked: 3, errors: 0 });
    expect(
      emu.userFields
        .filter((f) => f.FIELD_NAME === 'UF_CRM_NO_MOBILE')
        .map((f) => [f.ENTITY_ID, f.USER_TYPE_ID]),
    ).toEqual([
      ['CRM_CONTACT', 'boolean'],
      ['CRM_LEAD', 'boolean'],
      ['CRM_COMPANY', 'boolean'],
    ]);
    const marked = (t: 'CONTACT' | 'LEAD' | 'COMPANY', id: number) =>
      emu.crm.get(ENTITY_TYPE[t], id)?.UF_CRM_NO_MOBILE === true;
    expect([1, 2, 3].map((id) => marked('CONTACT', id))).toEqual([false, true, false]);
    expect(emu.crm.get(ENTITY_TYPE.CONTACT, 3)?.UF_CRM_NO_MOBILE).toBe(false);
    expect([marked('LEAD', 1), marked('COMPANY', 1)]).toEqual([false, true]);
    const again = await cli(args);
    expect(JSON.parse(again.stdout)).toMatchObject({ fixed: 0, marked: 0 });
  });
});
