import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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
});
