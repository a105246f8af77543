import { createHash, createHmac } from 'node:crypto';
import { timingSafeTokenEqual } from '../bitrix24/inbound.js';
import type { CrmRecordRef } from '../core/verifyAppOpen.js';

/**
 * The app page inside Bitrix24 lives in a cross-site iframe, where the browser sends no
 * SameSite cookie: the page calls our API with a short-lived token the server signed and
 * embedded in the page (SPEC §3), in the `X-App-Token` header — never a long-lived secret.
 * It names the portal (the API then shows that portal's data only), the user, whether they
 * administer the portal, and the CRM record of a card tab. A header a page on another site
 * cannot set, so no CSRF token is needed with it.
 */
export const APP_TOKEN_HEADER = 'x-app-token';
/** As long as Bitrix24's AUTH_ID it was issued for. */
export const APP_TOKEN_TTL_MS = 3600_000;

export interface AppGrant {
  portalId: string;
  userId: number;
  admin: boolean;
  record?: CrmRecordRef;
  /** The record's mobile numbers (normalized), for a card tab: its messages are theirs. */
  phones?: string[];
  expiresAt: number;
}

/** Signed with a key derived from B24_CLIENT_SECRET: every instance accepts it. */
function sign(secret: string, payload: string): string {
  const key = createHash('sha256').update(`b24-mts-sms app token\0${secret}`).digest();
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export function issueAppToken(secret: string, grant: AppGrant): string {
  const payload = Buffer.from(JSON.stringify(grant)).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/** The grant a token carries, when its signature holds and it has not expired. */
export function readAppToken(
  secret: string,
  token: string | undefined,
  now: number,
): AppGrant | undefined {
  if (!secret || !token) return undefined;
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) return undefined;
  if (!timingSafeTokenEqual(mac, sign(secret, payload))) return undefined;
  try {
    const grant = JSON.parse(Buffer.from(payload, 'base64url').toString()) as AppGrant;
    return typeof grant.portalId === 'string' && grant.expiresAt > now ? grant : undefined;
  } catch {
    return undefined;
  }
}
