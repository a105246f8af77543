/**
 * The page's calls to the admin API (docs/api.md). Inside Bitrix24 the page carries the grant
 * the server embedded (`X-App-Token`); standalone it uses the session cookie of a login and
 * sends the session's CSRF token with every change.
 */
function meta(name: string): string {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

/** The grant of a page opened by Bitrix24; empty standalone. */
export const appToken = meta('b24mts-app-token');
/** `app` (the app's page), `card` (a CRM card's SMS tab) or `standalone`. */
export const view = (meta('b24mts-view') || 'standalone') as 'app' | 'card' | 'standalone';
/** Whether the opener administers the portal (inside Bitrix24). */
export const isAdmin = meta('b24mts-admin') !== 'false';
export const serverLang = meta('b24mts-lang');

let csrf = '';

/** Whether a login's session is open (sandbox mode without ADMIN_TOKEN has none). */
export function hasSession(): boolean {
  return csrf !== '';
}

/** What to show a person for a failed call. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (appToken) headers['x-app-token'] = appToken;
  else if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const d = (typeof data === 'object' && data) || {};
    throw new ApiError(res.status, d.error ?? 'error', d.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

/** Whether the page may read: a grant, a live session, or sandbox mode without ADMIN_TOKEN. */
export async function checkSession(): Promise<boolean> {
  try {
    const s = await api<{ csrf?: string }>('GET', '/api/session');
    csrf = s.csrf ?? '';
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
  }
}

export async function logIn(token: string): Promise<void> {
  const s = await api<{ csrf: string }>('POST', '/api/session', { token });
  csrf = s.csrf;
}

export async function logOut(): Promise<void> {
  await api('DELETE', '/api/session');
  csrf = '';
}

/** A file from the API (the grant cannot ride on a plain link), saved under its name. */
export async function download(path: string, name: string): Promise<void> {
  const headers: Record<string, string> = {};
  if (appToken) headers['x-app-token'] = appToken;
  const res = await fetch(path, { headers, credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, 'error', `HTTP ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked once the browser has taken the file.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The installed portals (`GET /api/portals`), active ones; none when they cannot be read. */
export async function activePortals(): Promise<{ id: string; domain: string }[]> {
  try {
    const all = await api<{ id: string; domain: string; status: string }[]>('GET', '/api/portals');
    return all.filter((p) => p.status === 'active');
  } catch {
    return [];
  }
}
