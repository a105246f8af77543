import { callWithToken } from '../bitrix24/directCall.js';
import { timingSafeTokenEqual } from '../bitrix24/inbound.js';
import { type Connection, getPortal, type Portal } from '../store/index.js';

/** What Bitrix24 posts when it opens the app's page or one of its widgets (SPEC §3). */
export interface AppOpen {
  memberId: string;
  authId: string;
  /** Newer portals post it; checked when present. */
  applicationToken?: string | undefined;
  /** `DEFAULT` for the app's own page, else the widget, e.g. `CRM_DEAL_DETAIL_TAB`. */
  placement: string;
  /** PLACEMENT_OPTIONS as posted (JSON). */
  placementOptions?: string | undefined;
}

/** A CRM record a card tab was opened on. */
export interface CrmRecordRef {
  entity: 'lead' | 'deal' | 'contact';
  id: number;
}

export type AppAccess =
  | {
      ok: true;
      portal: Portal;
      userId: number;
      /** The user administers the portal: may change settings and send test SMS. */
      admin: boolean;
      /** Set when opened as a tab of a CRM card. */
      record?: CrmRecordRef;
    }
  | { ok: false; reason: string };

/** The CRM card tabs the app binds (`placement.bind`), and the record type of each. */
export const CRM_TABS: Record<string, CrmRecordRef['entity']> = {
  CRM_DEAL_DETAIL_TAB: 'deal',
  CRM_CONTACT_DETAIL_TAB: 'contact',
  CRM_LEAD_DETAIL_TAB: 'lead',
};

/**
 * Proves a page open came from a portal that installed us, for one of its users, before the
 * page shows anything (SPEC §3): the `member_id` is an installed portal; the posted
 * APPLICATION_TOKEN, when present, is the stored one; and the posted AUTH_ID works at that
 * portal's own REST address (the stored one, never a posted one) — `app.info` must name our
 * application, `profile` says who the user is and whether they administer the portal. A token
 * of another portal, another app, or a stale one, gets nothing.
 */
export async function verifyAppOpen(
  deps: { conn: Connection; clientId: string; fetch?: typeof fetch; timeoutMs?: number },
  open: AppOpen,
): Promise<AppAccess> {
  if (!open.memberId || !open.authId)
    return { ok: false, reason: 'the request carries no member_id or AUTH_ID' };
  const portal = await getPortal(deps.conn, open.memberId);
  if (portal?.status !== 'active')
    return { ok: false, reason: `no installed portal with member_id ${open.memberId}` };
  if (
    open.applicationToken !== undefined &&
    (!portal.application_token ||
      !timingSafeTokenEqual(open.applicationToken, portal.application_token))
  )
    return { ok: false, reason: 'APPLICATION_TOKEN does not match this portal' };
  const call = <T>(method: string) =>
    callWithToken<T>({
      clientEndpoint: portal.client_endpoint,
      method,
      accessToken: open.authId,
      fetch: deps.fetch ?? globalThis.fetch,
      timeoutMs: deps.timeoutMs ?? 10_000,
    });
  let user: { ID?: unknown; ADMIN?: unknown };
  try {
    const app = await call<{ CODE?: unknown }>('app.info');
    if (deps.clientId && app?.CODE !== deps.clientId)
      return { ok: false, reason: 'AUTH_ID belongs to another application' };
    user = await call<{ ID?: unknown; ADMIN?: unknown }>('profile');
  } catch (err) {
    return { ok: false, reason: `the portal did not accept AUTH_ID: ${(err as Error).message}` };
  }
  const userId = Number(user?.ID);
  if (!Number.isInteger(userId) || userId <= 0)
    return { ok: false, reason: 'the portal did not say who the user is' };
  const entity = CRM_TABS[open.placement];
  let record: CrmRecordRef | undefined;
  if (entity) {
    let id = Number.NaN;
    try {
      id = Number((JSON.parse(open.placementOptions ?? '{}') as { ID?: unknown }).ID);
    } catch {
      // stays NaN
    }
    if (!Number.isInteger(id) || id <= 0)
      return { ok: false, reason: `${open.placement} without a record ID in PLACEMENT_OPTIONS` };
    record = { entity, id };
  }
  return {
    ok: true,
    portal,
    userId,
    admin: user?.ADMIN === true,
    ...(record ? { record } : {}),
  };
}
