/**
 * The Bitrix24 OAuth servers we trust (B24_OAUTH_URL): installs are verified and tokens
 * refreshed only there. A `server_endpoint` posted by whoever calls our install URL is used
 * only when its origin is on the list: otherwise a forged install could "verify" itself
 * against a server of its own.
 */
export interface TrustedOAuthServers {
  /** Origins, e.g. `https://oauth.bitrix.info`; the first is the default. */
  readonly origins: readonly string[];
  /** The default server's REST base, `{first origin}/rest/`. */
  readonly defaultEndpoint: string;
  /** `{origin}/rest/` when `endpoint`'s origin is on the list; undefined otherwise. */
  match(endpoint: string | undefined): string | undefined;
}

/** The origin of a URL, or undefined when it is not an http(s) URL. */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the allow-list from URLs (`https://oauth.bitrix.info`, `https://x/rest/`…). */
export function trustedOAuthServers(urls: readonly string[]): TrustedOAuthServers {
  const origins = [
    ...new Set(urls.map((u) => originOf(u.trim())).filter((o): o is string => Boolean(o))),
  ];
  const first = origins[0];
  if (!first) throw new Error('at least one trusted Bitrix24 OAuth server is required');
  return {
    origins,
    defaultEndpoint: `${first}/rest/`,
    match(endpoint) {
      const origin = endpoint ? originOf(endpoint) : undefined;
      return origin && origins.includes(origin) ? `${origin}/rest/` : undefined;
    },
  };
}
