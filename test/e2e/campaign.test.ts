import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOptout, connect } from '../../src/store/index.js';
import { runCli, spawnService } from '../helpers/child.js';
import { type ChildHarness, startChildHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A campaign over a fake CRM of 20,000 contacts, run by a real service process: the
 * estimate's counts are exact; a pause takes effect within a second; a kill -9 in the
 * middle and a restart still give every eligible number exactly one SMS and no excluded
 * number any.
 */

const CONTACTS = 20_000;

type Fate =
  | 'eligible'
  | 'invalid_phone'
  | 'duplicate'
  | 'opted_out'
  | 'no_consent'
  | 'template_error';

interface Person {
  name: string;
  /** As typed on the card. */
  phone: string;
  /** Normalized; null when invalid. */
  normalized: string | null;
  consent: '1' | '0' | '';
  optedOut: boolean;
  fate: Fate;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 3 % duplicate numbers, 2 % invalid, 10 % without consent, 1 % opted out, a few unnamed. */
function population(): Person[] {
  const r = rng(20261201);
  const people: Person[] = [];
  const firstOf = new Map<string, Person>();
  for (let i = 0; i < CONTACTS; i++) {
    const x = r();
    const code = ['29', '33', '44', '25'][i % 4] as string;
    const sub = String(5_000_000 + i);
    let p: Person;
    if (x < 0.02) {
      // Invalid: a Minsk landline or something that is no number at all.
      const phone =
        i % 2 ? `+375 17 ${200 + (i % 700)}-${String(i % 100).padStart(2, '0')}-11` : `call ${i}`;
      p = {
        name: `P${i}`,
        phone,
        normalized: null,
        consent: '1',
        optedOut: false,
        fate: 'invalid_phone',
      };
    } else if (x < 0.05 && people.length > 0) {
      // The number of someone earlier, written differently; same consent (one person, two cards).
      const earlier = people[Math.floor(r() * people.length)] as Person;
      if (!earlier.normalized) {
        i--;
        continue;
      }
      const n = earlier.normalized;
      p = {
        name: `P${i}`,
        phone: `8 0${n.slice(4, 6)} ${n.slice(6, 9)}-${n.slice(9, 11)}-${n.slice(11)}`,
        normalized: n,
        consent: earlier.consent,
        optedOut: earlier.optedOut,
        fate: 'duplicate',
      };
    } else {
      const normalized = `+375${code}${sub}`;
      const formats = [
        normalized,
        `8 0${code} ${sub.slice(0, 3)}-${sub.slice(3, 5)}-${sub.slice(5)}`,
        `375${code}${sub}`,
      ];
      const y = r();
      p = {
        name: r() < 0.005 ? '' : `P${i}`,
        phone: formats[i % 3] as string,
        normalized,
        consent: y < 0.1 ? (y < 0.05 ? '0' : '') : '1',
        optedOut: y >= 0.1 && y < 0.11,
        fate: 'eligible',
      };
      p.fate = p.optedOut
        ? 'opted_out'
        : p.consent !== '1'
          ? 'no_consent'
          : !p.name
            ? 'template_error'
            : 'eligible';
    }
    if (p.normalized && !firstOf.has(p.normalized)) firstOf.set(p.normalized, p);
    people.push(p);
  }
  return people;
}

describe('campaign over 20,000 CRM contacts (sqlite, service process)', () => {
  let h: ChildHarness;
  const people = population();
  const expected = {
    eligible: people.filter((p) => p.fate === 'eligible'),
    excluded: {
      no_consent: people.filter((p) => p.fate === 'no_consent').length,
      opted_out: people.filter((p) => p.fate === 'opted_out').length,
      invalid_phone: people.filter((p) => p.fate === 'invalid_phone').length,
      duplicate: people.filter((p) => p.fate === 'duplicate').length,
      template_error: people.filter((p) => p.fate === 'template_error').length,
    },
  };

  beforeAll(async () => {
    h = await startChildHarness({
      mts: { dlr: { delayMs: 20 } },
      env: { MTS_RATE_LIMIT: '400', SENDER_CONCURRENCY: '32', PRICE_PER_PART: '0.05' },
    });
    for (const p of people)
      h.b24.addContact({
        NAME: p.name,
        PHONE: [{ VALUE: p.phone, VALUE_TYPE: 'MOBILE' }],
        UF_CRM_SMS_CONSENT: p.consent,
      });
    const conn = connect(h.env.DATABASE_URL as string);
    const optedOut = new Set(people.filter((p) => p.optedOut).map((p) => p.normalized as string));
    for (const phone of optedOut)
      await addOptout(
        conn,
        { phone, portalId: null, reason: 'replied STOP', source: 'test' },
        Date.now(),
      );
    await conn.close();
  }, 120_000);

  afterAll(() => h?.close());

  const cli = async (args: string[]) => {
    const r = await runCli(args, h.env);
    if (r.code !== 0) throw new Error(`${args.join(' ')} → exit ${r.code}: ${r.output}`);
    return JSON.parse(r.stdout);
  };
  const sentPhones = () => h.mts.sent.filter((s) => s.text.startsWith('Hi P'));

  it('estimates exactly, pauses within a second, survives kill -9, sends each eligible number once', async () => {
    const created = await cli([
      'campaign',
      'create',
      '--name',
      'December sale',
      '--text',
      'Hi #CONTACT_NAME#, -20% on everything until Sunday',
      '--entity',
      'contact',
      '--json',
    ]);
    expect(created.recipients).toBe(expected.eligible.length);
    expect(created.excluded).toEqual(expected.excluded);
    expect(created.parts).toBe(expected.eligible.length);
    expect(created.cost).toBeCloseTo(expected.eligible.length * 0.05, 2);
    expect(created.duration_s).toBeGreaterThanOrEqual(Math.floor(expected.eligible.length / 400));
    const id = String(created.id);
    expect(h.mts.sent.length).toBe(0);

    await cli(['campaign', 'start', id, '--json']);
    const total = expected.eligible.length;
    await waitFor(() => sentPhones().length >= total * 0.3, '30 % sent', 120_000, 20);
    const paused = await cli(['campaign', 'pause', id, '--json']);
    expect(paused.state).toBe('paused');
    // What was already handed to MTS completes; nothing new starts a second after the pause.
    await new Promise((r) => setTimeout(r, 1000));
    const atPause = sentPhones().length;
    await new Promise((r) => setTimeout(r, 2000));
    expect(sentPhones().length).toBe(atPause);
    expect(atPause).toBeLessThan(total);

    await cli(['campaign', 'resume', id, '--json']);
    await waitFor(() => sentPhones().length >= total * 0.6, '60 % sent', 120_000, 5);
    await h.proc.kill9();
    h.proc = await spawnService(h.env, h.url);

    await waitFor(
      async () => (await cli(['campaign', 'status', id, '--json'])).state === 'done',
      'campaign done',
      180_000,
      500,
    );
    const counts = new Map<string, number>();
    for (const s of sentPhones()) counts.set(`+${s.phone}`, (counts.get(`+${s.phone}`) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    const eligible = new Set(expected.eligible.map((p) => p.normalized as string));
    const missing = [...eligible].filter((p) => !counts.has(p));
    expect(missing).toEqual([]);
    const unexpected = [...counts.keys()].filter((p) => !eligible.has(p));
    expect(unexpected).toEqual([]);
    // Each text is that person's.
    const byPhone = new Map(expected.eligible.map((p) => [p.normalized, p.name]));
    for (const s of sentPhones().slice(0, 500))
      expect(s.text).toBe(`Hi ${byPhone.get(`+${s.phone}`)}, -20% on everything until Sunday`);

    await waitFor(
      async () => (await cli(['campaign', 'status', id, '--json'])).delivered === total,
      'every delivery report in',
      60_000,
      500,
    );
    const status = await cli(['campaign', 'status', id, '--json']);
    expect(status).toMatchObject({
      state: 'done',
      recipients: total,
      queued: 0,
      sent: total,
      delivered: total,
      failed: 0,
      excluded: Object.values(expected.excluded).reduce((a, b) => a + b, 0),
    });
  }, 600_000);
});

describe('campaign details (sqlite, service process)', () => {
  let h: ChildHarness;
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-campaign-'));
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    h = await startChildHarness({ mts: { dlr: { delayMs: 20 } }, env: { MTS_RATE_LIMIT: '50' } });
    const contacts: [string, unknown[], string][] = [
      ['Anna', ['+375291000001'], '1'],
      [
        'Boris',
        [
          { VALUE: '+375 17 222-33-44', VALUE_TYPE: 'WORK' },
          { VALUE: '8 033 100-00-02', VALUE_TYPE: 'MOBILE' },
        ],
        '1',
      ],
      ['Vera', ['+375441000003'], '0'],
      ['Gleb', ['+375 17 000-00-04'], '1'],
    ];
    for (const [name, phones, consent] of contacts)
      ids[name.toLowerCase()] = h.b24.addContact({
        NAME: name,
        PHONE: phones as never,
        UF_CRM_SMS_CONSENT: consent,
      });
    ids.dasha = h.b24.addLead({ NAME: 'Dasha', PHONE: ['+375255000005'], UF_CRM_SMS_CONSENT: '1' });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (args: string[]) => {
    const r = await runCli(args, h.env);
    if (r.code !== 0) throw new Error(`${args.join(' ')} → exit ${r.code}: ${r.output}`);
    return JSON.parse(r.stdout);
  };

  it('from the CRM: MOBILE value first, a test SMS, and each SMS logged on its record', async () => {
    const created = await cli([
      'campaign',
      'create',
      '--name',
      'Spring',
      '--text',
      '#NAME#, spring sale!',
      '--entity',
      'contact',
      '--json',
    ]);
    expect(created).toMatchObject({
      recipients: 2,
      excluded: { no_consent: 1, invalid_phone: 1, opted_out: 0, duplicate: 0, template_error: 0 },
      parts: 2,
      cost: null,
    });
    const tests = await cli([
      'campaign',
      'test',
      String(created.id),
      '--to',
      '8 029 999-99-99',
      '--json',
    ]);
    expect(tests).toHaveLength(1);
    await waitFor(
      () => h.mts.sent.some((s) => s.phone === '375299999999'),
      'test SMS at MTS',
      10_000,
    );
    // The sample is the first eligible recipient's own text; nobody else got anything yet.
    expect(h.mts.sent.map((s) => [s.phone, s.text])).toEqual([
      ['375299999999', 'Anna, spring sale!'],
    ]);

    await cli(['campaign', 'start', String(created.id), '--json']);
    await waitFor(
      async () => (await cli(['campaign', 'status', String(created.id), '--json'])).delivered === 2,
      'both delivered',
      30_000,
      200,
    );
    expect(
      h.mts.sent
        .filter((s) => s.text.includes('spring'))
        .map((s) => [s.phone, s.text])
        .sort(),
    ).toEqual([
      ['375291000001', 'Anna, spring sale!'],
      ['375299999999', 'Anna, spring sale!'],
      ['375331000002', 'Boris, spring sale!'],
    ]);
    await waitFor(() => h.b24.timelineLogs.length === 2, 'two timeline logs', 20_000, 100);
    const logs = [...h.b24.timelineLogs].sort((a, b) => a.entityId - b.entityId);
    expect(logs.map((l) => [l.entityTypeId, l.entityId])).toEqual([
      [3, ids.anna],
      [3, ids.boris],
    ]);
    expect(logs[0]?.text).toContain('Anna, spring sale!');
    expect(logs[0]?.title).toMatch(/delivered|доставлено/);
  }, 120_000);

  it('from a CSV with ; and its own columns; --no-timeline; leads are a CRM source too', async () => {
    const csv = join(dir, 'list.csv');
    writeFileSync(
      csv,
      '\uFEFFPhone;Name;Promo\n+375 29 100-00-01;Anna;A1\n80291000001;Anna again;A2\n+375441000003;Vera;V1\n+375 25 500-00-05;Dasha;\n12345;Bad;B\n',
    );
    const created = await cli([
      'campaign',
      'create',
      '--name',
      'CSV',
      '--text',
      '#NAME#: code #PROMO#',
      '--csv',
      csv,
      '--no-timeline',
      '--json',
    ]);
    // Anna: ok; her second line: duplicate; Vera: no consent; Dasha: empty PROMO; 12345: invalid.
    expect(created).toMatchObject({
      recipients: 1,
      excluded: { duplicate: 1, no_consent: 1, template_error: 1, invalid_phone: 1, opted_out: 0 },
    });
    const leads = await cli([
      'campaign',
      'create',
      '--name',
      'Leads',
      '--text',
      'Hi #LEAD_NAME#',
      '--entity',
      'lead',
      '--json',
    ]);
    expect(leads).toMatchObject({ recipients: 1 });
    const list = await cli(['campaign', 'list', '--json']);
    expect(list.map((c: { name: string; state: string }) => [c.name, c.state])).toEqual([
      ['Leads', 'draft'],
      ['CSV', 'draft'],
      ['Spring', 'done'],
    ]);
    const before = h.b24.timelineLogs.length;
    await cli(['campaign', 'start', String(created.id), '--json']);
    await waitFor(
      async () =>
        (await cli(['campaign', 'status', String(created.id), '--json'])).state === 'done',
      'CSV campaign done',
      30_000,
      200,
    );
    expect(h.mts.sent.filter((s) => s.text === 'Anna: code A1')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.b24.timelineLogs.length).toBe(before);
    // A finished campaign cannot be started again; a cancelled draft sends nothing.
    const again = await runCli(['campaign', 'start', String(created.id)], h.env);
    expect(again.code).toBe(2);
    expect(again.output).toContain('is done');
    const cancelled = await cli(['campaign', 'cancel', String(leads.id), '--json']);
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelled: 1, sent: 0 });
  }, 120_000);
});
