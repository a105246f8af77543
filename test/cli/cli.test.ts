import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connect, insertMessage, migrate } from '../../src/store/index.js';
import { runCli } from '../helpers/child.js';
import { seedPortal, testMessage } from '../helpers/db.js';

// Each CLI run is a Node process compiling the sources (tsx): several seconds apiece, and more
// beside a busy neighbour. A test of a few runs gets more than the suite's default 30 s.
vi.setConfig({ testTimeout: 90_000 });

describe('b24-mts-sms CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b24mts-cli-'));
  const env = { DATABASE_URL: `sqlite:${join(dir, 'cli.sqlite')}`, LOG_LEVEL: 'silent' };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists every command', async () => {
    const { code, output } = await runCli(['--help'], env);
    expect(code).toBe(0);
    for (const c of [
      'serve',
      'migrate',
      'register',
      'send',
      'emulate',
      'optout',
      'portal',
      'stats',
    ])
      expect(output).toContain(c);
  });

  it('serve --help names every setting of SPEC §6 that serve reads', async () => {
    const { code, output } = await runCli(['serve', '--help'], env);
    expect(code).toBe(0);
    for (const name of [
      'PUBLIC_URL',
      'DATABASE_URL',
      'B24_OAUTH_URL',
      'MTS_RATE_LIMIT',
      'MTS_LOOKUP_GRACE',
      'MTS_POLL_AFTER',
      'SMS_MAX_PARTS',
      'MARKETING_QUIET_HOURS',
      'SECRET_KEY',
      'RETENTION_DAYS',
    ])
      expect(output).toContain(name);
  });

  it('send in sandbox mode with no running service says to start it (exit 2)', async () => {
    const { code, output } = await runCli(
      ['send', '--to', '8 029 123-45-67', '--text', 'CLI test'],
      env,
    );
    expect(code).toBe(2);
    expect(output).toContain('start it first (`npm start` in another terminal)');
  });

  it('a malformed setting stops with a message naming the variable', async () => {
    const { code, output } = await runCli(['migrate'], { ...env, MTS_RATE_LIMIT: 'fast' });
    expect(code).toBe(2);
    expect(output).toContain('MTS_RATE_LIMIT');
  });

  it('a sender name that MTS cannot take stops the service at start, naming it', async () => {
    const { code, output } = await runCli(['migrate'], { ...env, MTS_SENDER: 'МОЙ БРЕНД' });
    expect(code).toBe(2);
    expect(output).toMatch(/MTS_SENDER: .*GSM-7/);
    const long = await runCli(['migrate'], { ...env, MTS_SENDER_MARKETING: 'TWELVE_CHARS' });
    expect(long.code).toBe(2);
    expect(long.output).toMatch(/MTS_SENDER_MARKETING: .*11 characters/);
  });

  it('portal set validates and stores per-portal settings; portal list shows them', async () => {
    const conn = connect(env.DATABASE_URL);
    await migrate(conn);
    await seedPortal(conn, 'm1', 'shop.bitrix24.by');
    await conn.close();
    const bad = await runCli(['portal', 'set', 'm1', '--sender', 'WAY_TOO_LONG_NAME'], env);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--sender');
    const badLang = await runCli(['portal', 'set', 'm1', '--language', 'de'], env);
    expect(badLang.code).toBe(2);
    expect(badLang.output).toContain('--language: ru, en, or auto');
    const badQuiet = await runCli(
      ['portal', 'set', 'm1', '--quiet-hours', 'sundays 10:00-11:00'],
      env,
    );
    expect(badQuiet.code).toBe(2);
    expect(badQuiet.output).toMatch(
      /bad syntax in "sundays 10:00-11:00".*"mts" \(the MTS curfew\)/,
    );
    const ok = await runCli(
      [
        'portal',
        'set',
        'shop.bitrix24.by',
        '--sender',
        'SHOP',
        '--quiet-hours',
        'workdays 21:00-09:00; weekends 18:00-11:00',
        '--timeline-notes',
        'off',
        '--enterprise',
        '--language',
        'en',
      ],
      env,
    );
    expect(ok.code).toBe(0);
    const list = await runCli(['portal', 'list', '--json'], env);
    expect(JSON.parse(list.output)[0].settings).toEqual({
      sender: 'SHOP',
      quietHours: 'workdays 21:00-09:00; weekends 18:00-11:00',
      timelineNotes: false,
      restRate: 5,
      restBurst: 250,
      language: 'en',
    });
  });

  it('sandbox refuses NODE_ENV=production', async () => {
    const { code, output } = await runCli(['serve'], { ...env, NODE_ENV: 'production' });
    expect(code).toBe(2);
    expect(output).toContain('sandbox mode');
  });

  it('serve refuses half a production configuration, naming what is missing', async () => {
    const mtsOnly = {
      ...env,
      MTS_CLIENT_ID: '1254',
      MTS_LOGIN: 'api',
      MTS_PASSWORD: 'secret',
      MTS_SENDER: 'SHOP',
    };
    const { code, output } = await runCli(['serve'], mtsOnly);
    expect(code).toBe(2);
    expect(output).toContain('missing: B24_CLIENT_ID, B24_CLIENT_SECRET');
  });

  it('portal remove asks first, then deletes the portal and its messages', async () => {
    const conn = connect(env.DATABASE_URL);
    await migrate(conn);
    await seedPortal(conn, 'rm-member', 'rm.bitrix24.by');
    await insertMessage(conn, testMessage({ portalId: 'rm-member' }), Date.now());
    await conn.close();
    // No terminal to ask on: it says what it would delete and wants --yes.
    const asked = await runCli(['portal', 'remove', 'rm.bitrix24.by'], env);
    expect(asked.code).toBe(2);
    expect(asked.output).toContain(
      'this deletes rm.bitrix24.by (member_id rm-member): 1 message(s), 1 of them not sent yet',
    );
    expect(asked.output).toContain('--yes');
    expect((await runCli(['portal', 'list'], env)).stdout).toContain('rm.bitrix24.by');
    expect((await runCli(['portal', 'remove', 'nowhere.bitrix24.by', '--yes'], env)).code).toBe(2);

    const removed = await runCli(['portal', 'remove', 'rm-member', '--yes'], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('deleted rm.bitrix24.by');
    expect(removed.stdout).toContain('uninstall it there');
    expect((await runCli(['portal', 'list'], env)).stdout).not.toContain('rm.bitrix24.by');
    const after = connect(env.DATABASE_URL);
    const left = await after.db
      .selectFrom('messages')
      .select('id')
      .where('portal_id', '=', 'rm-member')
      .execute();
    await after.close();
    expect(left).toEqual([]);
  });
});
