import { Bitrix24Error, bitrix24ErrorFromAnswer } from './errors.js';
import { readJson, transportError } from './http.js';
import type { PortalTokens } from './types.js';

export interface RefreshRequest {
  clientId: string;
  clientSecret: string;
  /** The portal's `server_endpoint`, e.g. `https://oauth.bitrix.info/rest/`. */
  serverEndpoint: string;
  refreshToken: string;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Epoch ms now, for `expiresAt`. */
  now: number;
}

/** `https://oauth.bitrix.info/rest/` → `https://oauth.bitrix.info/oauth/token/`. */
export function tokenUrl(serverEndpoint: string): string {
  return `${new URL(serverEndpoint).origin}/oauth/token/`;
}

/**
 * Exchanges a refresh token for a new pair (`settings/oauth/auto-renewal.md`): a GET to the
 * OAuth server with the app's credentials. The answer's `domain` is the OAuth server's
 * and its endpoints are ignored: the portal's own come from the install.
 * Throws Bitrix24Error: `invalid_grant` (refresh token spent or revoked) has action 'pause'.
 */
/** A refresh answer: the new pair, plus whom it was issued for (when the server says). */
export interface RefreshedTokens extends PortalTokens {
  memberId?: string;
  clientEndpoint?: string;
}

export async function refreshTokens(req: RefreshRequest): Promise<RefreshedTokens> {
  const query = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: req.clientId,
    client_secret: req.clientSecret,
    refresh_token: req.refreshToken,
  });
  let res: Response;
  try {
    res = await req.fetch(`${tokenUrl(req.serverEndpoint)}?${query}`, {
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    throw transportError('OAuth token refresh', err);
  }
  const body = await readJson(res);
  if (body && typeof body.error === 'string') {
    throw bitrix24ErrorFromAnswer({
      what: 'OAuth token refresh',
      httpStatus: res.status,
      b24Error: body.error,
      description: typeof body.error_description === 'string' ? body.error_description : undefined,
    });
  }
  if (!res.ok || !body) {
    throw bitrix24ErrorFromAnswer({ what: 'OAuth token refresh', httpStatus: res.status });
  }
  const { access_token, refresh_token, expires_in } = body;
  if (typeof access_token !== 'string' || typeof refresh_token !== 'string') {
    throw new Bitrix24Error(
      'Bitrix24 OAuth token refresh answered without access_token/refresh_token',
      {
        action: 'retry',
        httpStatus: res.status,
        code: 'B24_BAD_TOKEN_ANSWER',
      },
    );
  }
  const ttlSec = Number(expires_in);
  return {
    ...(typeof body.member_id === 'string' ? { memberId: body.member_id } : {}),
    ...(typeof body.client_endpoint === 'string' ? { clientEndpoint: body.client_endpoint } : {}),
    accessToken: access_token,
    refreshToken: refresh_token,
    // Bitrix24 access tokens live one hour; assume that when the answer omits it.
    expiresAt: req.now + (Number.isFinite(ttlSec) && ttlSec > 0 ? ttlSec : 3600) * 1000,
  };
}
