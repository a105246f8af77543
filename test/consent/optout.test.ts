import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bitrix24Api } from '../../src/bitrix24/types.js';
import { optoutCommand } from '../../src/cli/optout.js';
import { systemClock } from '../../src/clock.js';
import { checkMarketingConsent } from '../../src/consent/check.js';
import {
  ALL_PORTALS,
  addOptout,
  findOptout,
  listOptouts,
  removeOptout,
} from '../../src/store/consent.js';
import type { TestDb } from '../helpers/db.js';
import { DIALECTS } from '../helpers/db.js';
import { createConsentDb } from './setup.js';

const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);

/** A Bitrix24 API that must not be called: an opt-out is decided locally. */
const noApi: Bitrix24Api = {
  call: () => Promise.reject(new Error('no REST call expected')),
  batch: () => Promise.reject(new Error('no REST call expected')),
};

for (const dialect of DIALECTS) {
  describe(`opt-out store on ${dialect}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await createConsentDb(dialect);
    });
    afterEach(() => t.cleanup());

    it('migrate() creates the opt-out table', async () => {
      await addOptout(t.conn, { phone: '+375291234567' }, T0);
      expect(await listOptouts(t.conn)).toHaveLength(1);
    });

    it('adds once per scope and keeps the first entry', async () => {
      const a = await addOptout(
        t.conn,
        { phone: '+375291234567', reason: 'reply STOP', source: 'reply' },
        T0,
      );
      expect(a).toMatchObject({
        created: true,
        optout: { scope: ALL_PORTALS, reason: 'reply STOP', created_at: T0 },
      });
      const again = await addOptout(t.conn, { phone: '+375291234567', reason: 'later' }, T0 + 1000);
      expect(again).toMatchObject({
        created: false,
        optout: { reason: 'reply STOP', created_at: T0 },
      });
      const scoped = await addOptout(t.conn, { phone: '+375291234567', portalId: 'p1' }, T0 + 2000);
      expect(scoped).toMatchObject({
        created: true,
        optout: { scope: 'p1', source: 'cli', reason: null },
      });
      expect(await listOptouts(t.conn)).toHaveLength(2);
    });

    it('a global opt-out applies to every portal, a portal one only to its portal', async () => {
      await addOptout(t.conn, { phone: '+375291111111' }, T0);
      await addOptout(t.conn, { phone: '+375292222222', portalId: 'p1' }, T0);
      expect(await findOptout(t.conn, '+375291111111', 'p1')).toBeDefined();
      expect(await findOptout(t.conn, '+375291111111', 'p2')).toBeDefined();
      expect(await findOptout(t.conn, '+375292222222', 'p1')).toBeDefined();
      expect(await findOptout(t.conn, '+375292222222', 'p2')).toBeUndefined();
      expect((await listOptouts(t.conn, { portalId: 'p2' })).map((o) => o.phone)).toEqual([
        '+375291111111',
      ]);
      expect((await listOptouts(t.conn, { portalId: 'p1' })).map((o) => o.phone).sort()).toEqual([
        '+375291111111',
        '+375292222222',
      ]);
    });

    it('removes one scope, or every entry of the number', async () => {
      await addOptout(t.conn, { phone: '+375291111111' }, T0);
      await addOptout(t.conn, { phone: '+375291111111', portalId: 'p1' }, T0);
      expect((await removeOptout(t.conn, '+375291111111', 'p1')).map((o) => o.scope)).toEqual([
        'p1',
      ]);
      await addOptout(t.conn, { phone: '+375291111111', portalId: 'p1' }, T0);
      expect((await removeOptout(t.conn, '+375291111111')).map((o) => o.scope).sort()).toEqual([
        ALL_PORTALS,
        'p1',
      ]);
      expect(await removeOptout(t.conn, '+375291111111')).toEqual([]);
      expect(await listOptouts(t.conn)).toEqual([]);
    });
  });

  describe(`optout CLI on ${dialect}`, () => {
    let t: TestDb;
    let out: string;
    let err: string;
    const savedEnv = { ...process.env };

    /** Runs `b24-mts-sms optout …` in-process against the test database. */
    async function run(...args: string[]): Promise<number> {
      out = '';
      err = '';
      process.exitCode = 0;
      const program = new Command().name('b24-mts-sms').exitOverride();
      optoutCommand(program, {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (err += s) },
      });
      await program.parseAsync(['node', 'b24-mts-sms', 'optout', ...args]);
      const code = Number(process.exitCode ?? 0);
      process.exitCode = 0;
      return code;
    }

    beforeEach(async () => {
      t = await createConsentDb(dialect);
      // The CLI reads its configuration from the environment, like the real command.
      process.env.DATABASE_URL = t.schema ? `${t.url}?schema=${t.schema}` : t.url;
      process.env.LOG_LEVEL = 'silent';
    });
    afterEach(async () => {
      process.env = { ...savedEnv };
      await t.cleanup();
    });

    it('adds a number in any format, lists it, and checkMarketingConsent refuses it', async () => {
      expect(await run('add', '8 (029) 123-45-67', '--reason', 'reply STOP')).toBe(0);
      expect(out).toBe('opted out: +375291234567 (all portals)\n');
      expect(await run('add', '+375291234567')).toBe(0);
      expect(out).toMatch(
        /^already opted out: \+375291234567 {2}all portals {2}since .* UTC {2}\(cli: reply STOP\)\n$/,
      );

      expect(await run('list', '--json')).toBe(0);
      const listed = JSON.parse(out) as { phone: string; scope: string; reason: string }[];
      expect(listed).toEqual([
        {
          phone: '+375291234567',
          scope: 'all',
          reason: 'reply STOP',
          source: 'cli',
          createdAt: expect.any(String),
        },
      ]);
      expect(await run('list')).toBe(0);
      expect(out).toMatch(/^\+375291234567 {2}all portals .*\n1 number\(s\)\n$/);

      const decision = await checkMarketingConsent(
        { conn: t.conn, api: noApi, clock: systemClock },
        'any-portal',
        '+375291234567',
      );
      expect(decision).toMatchObject({
        allowed: false,
        reason: expect.stringMatching(/^opted out on \d{4}-\d\d-\d\d \(reply STOP\)$/),
      });
    });

    it('scopes to a portal with --portal, and remove takes the number off the list', async () => {
      expect(await run('add', '291234567', '--portal', 'p1')).toBe(0);
      expect(out).toBe('opted out: +375291234567 (portal p1)\n');
      expect(await run('list', '--portal', 'p2')).toBe(0);
      expect(out).toBe('the opt-out list is empty\n');
      expect(await run('remove', '+375 29 123 45 67')).toBe(0);
      expect(out).toBe('removed: +375291234567 (portal p1)\n');
      expect(await run('remove', '+375291234567')).toBe(0);
      expect(out).toBe('+375291234567 was not on the opt-out list\n');
      expect(await listOptouts(t.conn)).toEqual([]);
    });

    it('refuses an invalid number with exit code 2 and changes nothing', async () => {
      expect(await run('add', '+375 17 123-45-67')).toBe(2);
      expect(err).toMatch(/^error: .*\(invalid: landline\); nothing changed\n$/);
      expect(await run('add', 'call me')).toBe(2);
      expect(err).toMatch(/invalid: malformed/);
      expect(await run('remove', '+7 912 345 67 89')).toBe(2);
      expect(err).toMatch(/invalid: not a Belarus number/);
      expect(await listOptouts(t.conn)).toEqual([]);
    });

    it('has help texts', () => {
      const program = new Command().name('b24-mts-sms');
      optoutCommand(program);
      const optout = program.commands.find((c) => c.name() === 'optout') as Command;
      expect(optout.helpInformation()).toMatch(/never get marketing SMS/);
      const sub = (name: string) =>
        (optout.commands.find((c) => c.name() === name) as Command).helpInformation();
      expect(sub('add')).toMatch(/--reason <text>/);
      expect(sub('add')).toMatch(/--portal <id>/);
      expect(sub('remove')).toMatch(/--portal <id>/);
      expect(sub('list')).toMatch(/--json/);
    });
  });
}
