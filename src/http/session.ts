import { createHash, createHmac, randomBytes } from 'node:crypto';
import { timingSafeTokenEqual } from '../bitrix24/inbound.js';

/**
 * The admin session: a login with ADMIN_TOKEN sets an HttpOnly, SameSite=Strict cookie, so the
 * token never sits in a URL (browser history, proxy logs). The cookie is signed, not stored:
 * every instance verifies it, and changing ADMIN_TOKEN ends every session. A change made with
 * the cookie needs the session's CSRF token in `X-CSRF-Token` as well.
 */
export const SESSION_COOKIE = 'b24mts_session';
export const SESSION_TTL_MS = 12 * 3600_000;

function key(adminToken: string): Buffer {
  return createHash('sha256').update(`b24-mts-sms session\0${adminToken}`).digest();
}

function sign(adminToken: string, what: string): string {
  return createHmac('sha256', key(adminToken)).update(what).digest('base64url');
}

export interface Session {
  /** Random, names the session (the CSRF token derives from it). */
  id: string;
  expiresAt: number;
}

/** A new session's cookie value and CSRF token. */
export function issueSession(
  adminToken: string,
  now: number,
): { value: string; csrf: string; session: Session } {
  const session = { id: randomBytes(16).toString('base64url'), expiresAt: now + SESSION_TTL_MS };
  const payload = `${session.id}.${session.expiresAt}`;
  return {
    value: `${payload}.${sign(adminToken, payload)}`,
    csrf: csrfToken(adminToken, session),
    session,
  };
}

/** The session a cookie value names, when its signature holds and it has not expired. */
export function readSession(
  adminToken: string,
  value: string | undefined,
  now: number,
): Session | undefined {
  if (!value) return undefined;
  const parts = value.split('.');
  if (parts.length !== 3) return undefined;
  const [id, exp, mac] = parts as [string, string, string];
  if (!timingSafeTokenEqual(mac, sign(adminToken, `${id}.${exp}`))) return undefined;
  const expiresAt = Number(exp);
  if (!Number.isFinite(expiresAt) || expiresAt <= now) return undefined;
  return { id, expiresAt };
}

export function csrfToken(adminToken: string, s: Session): string {
  return sign(adminToken, `csrf.${s.id}`);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** One cookie's value from a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for the session (`value` undefined: clear it). */
export function sessionCookie(value: string | undefined, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value ?? ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${value ? SESSION_TTL_MS / 1000 : 0}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
