import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { PortalConnection, PortalTokens } from '../bitrix24/types.js';
import { portalContractId } from './contracts.js';
import type { Connection } from './dialects/types.js';
import { runHot } from './hotSql.js';
import { type PortalsTable, WAITING_STATES } from './schema.js';

export type Portal = Selectable<PortalsTable>;

/** Per-portal overrides; anything absent falls back to the service configuration. */
export interface PortalSettings {
  /** Alpha name for transactional SMS (default MTS_SENDER). */
  sender?: string;
  /** Alpha name for marketing SMS (default MTS_SENDER_MARKETING). */
  senderMarketing?: string;
  /** Extra alpha names a manager may choose in the CRM: one Bitrix24 provider each. */
  senders?: string[];
  /** The portal's boolean user field holding marketing consent (default CONSENT_FIELD). */
  consentField?: string;
  /** Leaky bucket of this portal's plan: 2/50 standard, 5/250 Enterprise. */
  restRate?: number;
  restBurst?: number;
  /** Add a CRM timeline comment when a card send fails (default true). */
  timelineNotes?: boolean;
  /**
   * How a robot's SMS is traced on the CRM card: `log` (a timeline log entry, default),
   * `comment` (a timeline comment), or `off`.
   */
  robotTrace?: 'log' | 'comment' | 'off';
  /** Marketing quiet hours in MARKETING_QUIET_HOURS syntax (parseQuietHours), '' for none (default MARKETING_QUIET_HOURS). */
  quietHours?: string;
  /** The Bitrix24 user who installed (or last updated) the app, an administrator: alerts go to them. Set at install. */
  adminUserId?: number;
  /** The portal's language as Bitrix24 reported it at install/update (`ru`, `en`…). */
  detectedLanguage?: string;
  /** Language of what Bitrix24 users read from us, when set by the admin (`ru` or `en`); default from the portal. */
  language?: 'ru' | 'en';
}

export interface InstalledPortal {
  id: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  applicationToken: string | null;
}

/** 256-bit URL-safe secret for handler and callback paths. */
export function newSecretKey(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Stores a portal from ONAPPINSTALL/ONAPPUPDATE. Keeps existing secret keys (so HANDLER URLs
 * already registered stay valid) and the application_token when the event lacks one.
 */
export async function upsertPortal(
  conn: Connection,
  p: InstalledPortal,
  now: number,
): Promise<Portal> {
  await conn.db
    .insertInto('portals')
    .values({
      id: p.id,
      domain: p.domain,
      client_endpoint: p.clientEndpoint,
      server_endpoint: p.serverEndpoint,
      access_token: p.accessToken,
      refresh_token: p.refreshToken,
      expires_at: p.expiresAt,
      application_token: p.applicationToken,
      handler_key: newSecretKey(),
      dlr_key: newSecretKey(),
      settings: '{}',
      status: 'active',
      registered_at: null,
      installed_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        domain: eb.ref('excluded.domain'),
        client_endpoint: eb.ref('excluded.client_endpoint'),
        server_endpoint: eb.ref('excluded.server_endpoint'),
        access_token: eb.ref('excluded.access_token'),
        refresh_token: eb.ref('excluded.refresh_token'),
        expires_at: eb.ref('excluded.expires_at'),
        application_token: eb.fn.coalesce(
          'excluded.application_token',
          'portals.application_token',
        ),
        status: 'active',
        updated_at: now,
      })),
    )
    .execute();
  return (await getPortal(conn, p.id)) as Portal;
}

export function getPortal(conn: Connection, id: string): Promise<Portal | undefined> {
  return conn.db.selectFrom('portals').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every handler POST starts here: a constant statement (see hotSql.ts). */
export async function getPortalByHandlerKey(
  conn: Connection,
  key: string,
): Promise<Portal | undefined> {
  const r = await runHot<Portal>(
    conn,
    "select * from portals where handler_key = ? and status = 'active'",
    [key],
  );
  return r.rows[0];
}

export function getPortalByDlrKey(conn: Connection, key: string): Promise<Portal | undefined> {
  return conn.db.selectFrom('portals').selectAll().where('dlr_key', '=', key).executeTakeFirst();
}

export function listPortals(conn: Connection): Promise<Portal[]> {
  return conn.db.selectFrom('portals').selectAll().orderBy('installed_at').execute();
}

export async function markRegistered(conn: Connection, id: string, now: number): Promise<void> {
  await conn.db
    .updateTable('portals')
    .set({ registered_at: now, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function markUninstalled(conn: Connection, id: string, now: number): Promise<void> {
  await conn.db
    .updateTable('portals')
    .set({ status: 'uninstalled', updated_at: now })
    .where('id', '=', id)
    .execute();
}

export function portalSettings(p: Pick<Portal, 'settings'>): PortalSettings {
  try {
    return JSON.parse(p.settings) as PortalSettings;
  } catch {
    return {};
  }
}

/**
 * Merges `patch` into a portal's settings. Runs in the caller's transaction when given one;
 * the row is locked while read on PostgreSQL, so two concurrent changes never lose one.
 */
export async function updatePortalSettings(
  conn: Connection,
  id: string,
  patch: PortalSettings,
  now: number,
): Promise<PortalSettings> {
  const run = async (db: Connection['db']) => {
    const row = await db
      .selectFrom('portals')
      .select('settings')
      .where('id', '=', id)
      .$if(conn.caps.name === 'postgres', (q) => q.forUpdate())
      .executeTakeFirstOrThrow();
    const next = { ...portalSettings(row), ...patch };
    await db
      .updateTable('portals')
      .set({ settings: JSON.stringify(next), updated_at: now })
      .where('id', '=', id)
      .execute();
    return next;
  };
  return conn.db.isTransaction ? run(conn.db) : conn.db.transaction().execute(run);
}

export function toConnection(p: Portal): PortalConnection {
  return {
    portalId: p.id,
    domain: p.domain,
    clientEndpoint: p.client_endpoint,
    serverEndpoint: p.server_endpoint,
    accessToken: p.access_token,
    refreshToken: p.refresh_token,
    expiresAt: p.expires_at,
  };
}

/** Both tokens in one UPDATE: a refresh invalidates the old refresh token, so never half-save. */
export async function saveTokens(
  conn: Connection,
  id: string,
  t: PortalTokens,
  now: number,
): Promise<void> {
  await conn.db
    .updateTable('portals')
    .set({
      access_token: t.accessToken,
      refresh_token: t.refreshToken,
      expires_at: t.expiresAt,
      updated_at: now,
    })
    .where('id', '=', id)
    .execute();
}

/** What removing a portal deletes (`removePortal`), for the confirmation and the answer. */
export interface PortalFootprint {
  messages: number;
  /** Of them, not sent yet (queued, held, sending). */
  waiting: number;
  campaigns: number;
  /** The portal has an MTS contract of its own (its credentials are deleted too). */
  ownContract: boolean;
}

export async function portalFootprint(
  conn: Connection,
  portalId: string,
): Promise<PortalFootprint> {
  const count = (n: number | string | bigint | undefined) => Number(n ?? 0);
  const m = await conn.db
    .selectFrom('messages')
    .select((eb) => [
      eb.fn.countAll<number>().as('n'),
      eb.fn
        .sum<number>(
          eb
            .case()
            .when('state', 'in', [...WAITING_STATES])
            .then(1)
            .else(0)
            .end(),
        )
        .as('waiting'),
    ])
    .where('portal_id', '=', portalId)
    .executeTakeFirst();
  const c = await conn.db
    .selectFrom('campaigns')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('portal_id', '=', portalId)
    .executeTakeFirst();
  const own = await conn.db
    .selectFrom('contracts')
    .select('id')
    .where('id', '=', portalContractId(portalId))
    .executeTakeFirst();
  return {
    messages: count(m?.n),
    waiting: count(m?.waiting),
    campaigns: count(c?.n),
    ownContract: own !== undefined,
  };
}

/**
 * Deletes a portal and everything of it, in one transaction: its tokens and keys, its own MTS
 * contract (credentials, holds), its messages with their reports and history steps, its
 * campaigns, phone scans, consent registry, opt-outs, REST budget and figures. Messages still
 * waiting are deleted unsent. Returns false when there is no such portal.
 */
export async function removePortal(conn: Connection, portalId: string): Promise<boolean> {
  return conn.db.transaction().execute(async (trx) => {
    const found = await trx
      .selectFrom('portals')
      .select('id')
      .where('id', '=', portalId)
      .executeTakeFirst();
    if (!found) return false;
    const messages = trx.selectFrom('messages').select('id').where('portal_id', '=', portalId);
    const campaigns = trx.selectFrom('campaigns').select('id').where('portal_id', '=', portalId);
    const scans = trx.selectFrom('phone_scans').select('id').where('portal_id', '=', portalId);
    const contract = portalContractId(portalId);
    await trx.deleteFrom('delivery_reports').where('message_id', 'in', messages).execute();
    await trx.deleteFrom('message_events').where('message_id', 'in', messages).execute();
    await trx.deleteFrom('campaign_recipients').where('campaign_id', 'in', campaigns).execute();
    await trx.deleteFrom('messages').where('portal_id', '=', portalId).execute();
    await trx.deleteFrom('campaigns').where('portal_id', '=', portalId).execute();
    await trx.deleteFrom('phone_scan_chunks').where('scan_id', 'in', scans).execute();
    await trx.deleteFrom('phone_scans').where('portal_id', '=', portalId).execute();
    for (const table of [
      'robot_jobs',
      'consent_records',
      'consent_misses',
      'consent_sync',
      'rest_budgets',
      'stats_deltas',
      'stats_days',
    ] as const)
      await trx.deleteFrom(table).where('portal_id', '=', portalId).execute();
    await trx.deleteFrom('optouts').where('scope', '=', portalId).execute();
    await trx.deleteFrom('alpha_holds').where('contract_id', '=', contract).execute();
    await trx.deleteFrom('contracts').where('id', '=', contract).execute();
    await trx.deleteFrom('portals').where('id', '=', portalId).execute();
    return true;
  });
}
