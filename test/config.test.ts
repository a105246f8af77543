import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('B24_OAUTH_URL: a comma-separated allow-list of OAuth server origins', () => {
    expect(loadConfig({}).B24_OAUTH_URL).toEqual(['https://oauth.bitrix.info']);
    expect(
      loadConfig({
        B24_OAUTH_URL: 'https://oauth.bitrix.info/, https://oauth.bitrix24.tech/rest/ ,',
      }).B24_OAUTH_URL,
    ).toEqual(['https://oauth.bitrix.info', 'https://oauth.bitrix24.tech']);
    expect(() => loadConfig({ B24_OAUTH_URL: 'https://ok.example, not a url' })).toThrow(
      /B24_OAUTH_URL: "not a url" is not an http\(s\) URL/,
    );
    expect(() => loadConfig({ B24_OAUTH_URL: ' , ' })).toThrow(ConfigError);
  });

  it('MARKETING_QUIET_HOURS: every form parseQuietHours takes, and a clear error otherwise', () => {
    for (const v of ['', '21:00-09:00', 'mts', 'workdays 20:00-09:00; weekends 18:00-11:00'])
      expect(loadConfig({ MARKETING_QUIET_HOURS: v }).MARKETING_QUIET_HOURS).toBe(v);
    expect(() => loadConfig({ MARKETING_QUIET_HOURS: 'weekends 25:00-11:00' })).toThrow(
      /MARKETING_QUIET_HOURS: quiet hours "weekends 25:00-11:00": the start is not a time of day/,
    );
  });

  it('half a production configuration refuses to start, naming what is missing', () => {
    expect(loadConfig({}).sandbox).toBe(true);
    const mts = {
      MTS_CLIENT_ID: '1254',
      MTS_LOGIN: 'api',
      MTS_PASSWORD: 'secret',
      MTS_SENDER: 'SHOP',
    };
    const b24 = { B24_CLIENT_ID: 'local.abc', B24_CLIENT_SECRET: 'xyz' };
    expect(loadConfig({ ...mts, ...b24 }, { sends: true }).sandbox).toBe(false);
    // The CRM tools (phones) need Bitrix24's credentials alone.
    expect(loadConfig(b24).sandbox).toBe(true);
    expect(() => loadConfig(mts, { sends: true })).toThrow(
      /MTS credentials are set but Bitrix24 ones are not — missing: B24_CLIENT_ID, B24_CLIENT_SECRET\./,
    );
    expect(() => loadConfig({ ...mts, B24_CLIENT_ID: 'local.abc' }, { sends: true })).toThrow(
      /B24_CLIENT_SECRET/,
    );
    expect(() => loadConfig({ ...b24, MTS_SENDER: 'SHOP' }, { sends: true })).toThrow(
      /Bitrix24 credentials are set but MTS ones are not — missing: MTS_CLIENT_ID, MTS_LOGIN and MTS_PASSWORD \(or MTS_API_TOKEN\)\./,
    );
    expect(() => loadConfig({ ...b24, MTS_SENDER: 'SHOP' }, { sends: true })).not.toThrow(
      /missing:.*MTS_SENDER/,
    );
  });

  it('.env.example names every setting, and its values load', () => {
    const example = readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8');
    const named = new Set(
      [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string),
    );
    expect(Object.keys(configSchema.shape).filter((k) => !named.has(k))).toEqual([]);
    expect([...named].filter((k) => !(k in configSchema.shape))).toEqual([]);
    // The uncommented lines are a complete production configuration.
    const c = loadConfig(parseDotenv(example));
    expect(c).toMatchObject({ sandbox: false, NODE_ENV: 'production', MTS_SENDER: 'SHOP' });
  });
});
