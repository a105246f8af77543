import { callWithToken } from '../bitrix24/directCall.js';
import type { InstallEvent } from '../bitrix24/inbound.js';
import { type RefreshedTokens, refreshTokens } from '../bitrix24/oauth.js';
import { trustedOAuthServers } from '../bitrix24/oauthServers.js';
import type { PortalTokens } from '../bitrix24/types.js';

/** Our app's credentials and the OAuth servers we trust (B24_OAUTH_URL). */
export interface OAuthVerifier {
  clientId: string;
  clientSecret: string;
  /** Trusted OAuth server origins; the first is the default. */
  servers: readonly string[];
  /** Default the global fetch. */
  fetch?: typeof fetch;
  /** Default 15 000 ms. */
  timeoutMs?: number;
}

export type Verified = {
  ok: true;
  /** The pair from the verifying refresh (the posted one is spent by it). */
  tokens: PortalTokens;
  /** The trusted OAuth server's REST base, stored for later refreshes. */
  serverEndpoint: string;
  /** The portal's REST base as the OAuth server reports it, else the known or posted one. */
  clientEndpoint: string;
  /** The Bitrix24 user the tokens belong to (the installing administrator). */
  userId: number;
};

export type VerifyOutcome = Verified | { ok: false; reason: string };

/**
 * Proves an install or update (ONAPPINSTALL / ONAPPUPDATE with `auth[refresh_token]`) is
 * genuine: its refresh token must refresh, with our client credentials, at a trusted OAuth
 * server (the posted `server_endpoint` when its origin is on the list, else the first one),
 * that server must say the tokens belong to the posted member_id, and the portal must say
 * they belong to an administrator (`profile`). Only an admin's tokens issued to our app for
 * that portal pass; knowing a portal's application_token is not enough.
 */
export async function verifyAppEvent(
  verifier: OAuthVerifier,
  ev: InstallEvent,
  now: number,
  /** The stored REST base of a portal we already serve: preferred over a posted one. */
  knownClientEndpoint?: string,
): Promise<VerifyOutcome> {
  if (!ev.tokens) return { ok: false, reason: 'the event carries no tokens to verify' };
  const servers = trustedOAuthServers(verifier.servers);
  const serverEndpoint = ev.postedServerEndpoint
    ? servers.match(ev.postedServerEndpoint)
    : servers.defaultEndpoint;
  if (!serverEndpoint) {
    return {
      ok: false,
      reason: `server_endpoint ${ev.postedServerEndpoint} is not a trusted OAuth server (B24_OAUTH_URL: ${servers.origins.join(', ')})`,
    };
  }
  let fresh: RefreshedTokens;
  try {
    fresh = await refreshTokens({
      clientId: verifier.clientId,
      clientSecret: verifier.clientSecret,
      serverEndpoint,
      refreshToken: ev.tokens.refreshToken,
      fetch: verifier.fetch ?? globalThis.fetch,
      timeoutMs: verifier.timeoutMs ?? 15_000,
      now,
    });
  } catch (err) {
    return { ok: false, reason: `the token refresh failed: ${(err as Error).message}` };
  }
  if (fresh.memberId !== ev.memberId) {
    return {
      ok: false,
      reason: fresh.memberId
        ? `the tokens belong to member_id ${fresh.memberId}, not ${ev.memberId}`
        : 'the OAuth server did not say which portal the tokens belong to',
    };
  }
  // Any user who opens the app gets a token pair of their own (the app page's REFRESH_ID):
  // only an administrator's may install or update it (installs and updates are admin acts).
  const clientEndpoint = fresh.clientEndpoint ?? knownClientEndpoint ?? ev.clientEndpoint;
  let profile: { ID?: unknown; ADMIN?: unknown };
  try {
    profile = await callWithToken({
      clientEndpoint,
      method: 'profile',
      accessToken: fresh.accessToken,
      fetch: verifier.fetch ?? globalThis.fetch,
      timeoutMs: verifier.timeoutMs ?? 15_000,
    });
  } catch (err) {
    return { ok: false, reason: `the portal did not confirm the user: ${(err as Error).message}` };
  }
  const userId = Number(profile?.ID);
  if (profile?.ADMIN !== true || !Number.isInteger(userId) || userId <= 0) {
    return {
      ok: false,
      reason: `the tokens belong to user ${String(profile?.ID)}, not an administrator`,
    };
  }
  return {
    ok: true,
    userId,
    tokens: {
      accessToken: fresh.accessToken,
      refreshToken: fresh.refreshToken,
      expiresAt: fresh.expiresAt,
    },
    serverEndpoint,
    clientEndpoint,
  };
}
