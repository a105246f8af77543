import { describe, expect, it } from 'vitest';
import {
  cookieValue,
  csrfToken,
  issueSession,
  readSession,
  SESSION_TTL_MS,
  sessionCookie,
} from '../../src/http/session.js';

const T0 = 1_800_000_000_000;

describe('admin session cookie', () => {
  it('reads back until it expires, only under the ADMIN_TOKEN that issued it', () => {
    const s = issueSession('token-one-123456', T0);
    expect(readSession('token-one-123456', s.value, T0 + 1000)).toEqual(s.session);
    expect(readSession('token-one-123456', s.value, T0 + SESSION_TTL_MS)).toBeUndefined();
    // A new ADMIN_TOKEN ends every session.
    expect(readSession('token-two-123456', s.value, T0 + 1000)).toBeUndefined();
    expect(s.csrf).toBe(csrfToken('token-one-123456', s.session));
    expect(s.csrf).not.toBe(
      csrfToken('token-one-123456', issueSession('token-one-123456', T0).session),
    );
  });

  it('refuses altered and malformed values', () => {
    const s = issueSession('token-one-123456', T0);
    const [id, exp, mac] = s.value.split('.') as [string, string, string];
    const later = `${id}.${Number(exp) + SESSION_TTL_MS}.${mac}`;
    for (const v of [later, `${id}x.${exp}.${mac}`, `${id}.${exp}`, '', 'a.b.c', `${s.value}.x`])
      expect(readSession('token-one-123456', v, T0), v).toBeUndefined();
  });

  it('finds its cookie among others; Set-Cookie says HttpOnly, SameSite=Strict, Secure on https', () => {
    expect(cookieValue('a=1; b24mts_session=x.y.z; b=2', 'b24mts_session')).toBe('x.y.z');
    expect(cookieValue('xb24mts_session=1', 'b24mts_session')).toBeUndefined();
    expect(cookieValue(undefined, 'b24mts_session')).toBeUndefined();
    expect(sessionCookie('v', true)).toBe(
      'b24mts_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure',
    );
    expect(sessionCookie(undefined, false)).toBe(
      'b24mts_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0',
    );
  });
});
