/** OAuth state of one installed portal. */
export interface PortalTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires (a hint: the portal's 401 is the truth). */
  expiresAt: number;
}

export interface PortalConnection extends PortalTokens {
  /** Our id of the portal (we use the Bitrix24 member_id). */
  portalId: string;
  /** The portal's domain from the install, e.g. `example.bitrix24.by`. */
  domain: string;
  /** REST base, e.g. `https://example.bitrix24.by/rest/` (from `client_endpoint`). */
  clientEndpoint: string;
  /** OAuth server REST base, e.g. `https://oauth.bitrix.info/rest/` (from `server_endpoint`). */
  serverEndpoint: string;
}

/**
 * Where the REST client reads and persists tokens. `saveTokens` must store the new pair
 * atomically: every refresh invalidates the previous refresh token.
 */
export interface TokenStore {
  loadConnection(portalId: string): Promise<PortalConnection | undefined>;
  saveTokens(portalId: string, tokens: PortalTokens): Promise<void>;
}

/** One command of a `batch` call. */
export interface BatchCommand {
  method: string;
  params?: Record<string, unknown>;
}

/** Outcome of one command inside a batch. */
export type BatchItemResult =
  | {
      ok: true;
      result: unknown;
      /** `result_total[key]`, for list methods called with `start >= 0`. */
      total?: number;
      /** `result_next[key]`: the `start` of the next page, when there is one. */
      next?: number;
    }
  | { ok: false; error: string; description?: string };

export interface Bitrix24Api {
  /** Calls one REST method for the portal; throws Bitrix24Error on failure. */
  call<T = unknown>(portalId: string, method: string, params?: Record<string, unknown>): Promise<T>;
  /**
   * One `batch` REST request with ≤ 50 commands (halt=0). Returns each command's outcome by
   * key; throws Bitrix24Error only when the batch request itself fails.
   */
  batch(
    portalId: string,
    commands: Record<string, BatchCommand>,
  ): Promise<Record<string, BatchItemResult>>;
}
