import type { Kysely, Selectable } from 'kysely';
import type { Connection } from './dialects/types.js';
import type {
  ConsentEntityType,
  ConsentRecordsTable,
  ConsentSyncTable,
  Database,
  OptoutsTable,
} from './schema.js';

export type ConsentRecordRow = Selectable<ConsentRecordsTable>;
export type ConsentSyncState = Selectable<ConsentSyncTable>;
export type Optout = Selectable<OptoutsTable>;

/** `optouts.scope` of an opt-out that holds for every portal. */
export const ALL_PORTALS = '*';

/** One CRM record as the registry stores it. */
export interface ConsentRecordInput {
  entityType: ConsentEntityType;
  entityId: number;
  /** Its phones, normalized; an empty list removes the record from the registry. */
  phones: string[];
  /** true = yes, false = no, null = the field is empty. */
  consent: boolean | null;
  modifiedAt: number | null;
}

/** Cursor fields a sync step writes (see ConsentSyncTable). */
export type SyncCursor = Pick<
  ConsentSyncState,
  'since' | 'pass_started_at' | 'pass_full' | 'last_id' | 'pass_max_modified'
> &
  Partial<Pick<ConsentSyncState, 'full_synced_at' | 'last_synced_at' | 'last_error'>>;

// SQLite binds at most 32 766 parameters per statement; 7 columns × 500 rows stays far below.
const CHUNK = 500;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Replaces what the registry knows about these records (their phones may have changed) and
 * forgets earlier misses of their numbers. Runs inside the caller's transaction.
 */
async function replaceRecords(
  db: Kysely<Database>,
  portalId: string,
  records: ConsentRecordInput[],
  now: number,
): Promise<void> {
  for (const type of ['contact', 'lead'] as const) {
    const ids = [...new Set(records.filter((r) => r.entityType === type).map((r) => r.entityId))];
    for (const part of chunks(ids)) {
      await db
        .deleteFrom('consent_records')
        .where('portal_id', '=', portalId)
        .where('entity_type', '=', type)
        .where('entity_id', 'in', part)
        .execute();
    }
  }
  const rows = records.flatMap((r) =>
    [...new Set(r.phones)].map((phone) => ({
      portal_id: portalId,
      entity_type: r.entityType,
      entity_id: r.entityId,
      phone,
      consent: r.consent === null ? null : r.consent ? 1 : 0,
      modified_at: r.modifiedAt,
      synced_at: now,
    })),
  );
  for (const part of chunks(rows)) {
    // A concurrent live lookup may have inserted the same record a moment ago.
    await db
      .insertInto('consent_records')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['portal_id', 'entity_type', 'entity_id', 'phone']).doUpdateSet((eb) => ({
          consent: eb.ref('excluded.consent'),
          modified_at: eb.ref('excluded.modified_at'),
          synced_at: eb.ref('excluded.synced_at'),
        })),
      )
      .execute();
  }
  const phones = [...new Set(rows.map((r) => r.phone))];
  for (const part of chunks(phones)) {
    await db
      .deleteFrom('consent_misses')
      .where('portal_id', '=', portalId)
      .where('phone', 'in', part)
      .execute();
  }
}

/** Stores records found outside a sync pass (a live lookup). */
export async function saveConsentRecords(
  conn: Connection,
  portalId: string,
  records: ConsentRecordInput[],
  now: number,
): Promise<void> {
  if (records.length === 0) return;
  await conn.db.transaction().execute((trx) => replaceRecords(trx, portalId, records, now));
}

/**
 * The registry lookup for one number. No ORDER BY: with one, SQLite's planner walks the primary
 * key (portal, type, id, …) to skip a sort — every row of the portal for every lookup, 0.75 ms
 * at 12,000 records, the event-loop stall that cost a campaign at 100/s a tenth of its rate —
 * instead of the (portal, phone) index. A number has a handful of rows; they are sorted here.
 */
export function consentLookupQuery(conn: Connection, portalId: string, phone: string) {
  return conn.db
    .selectFrom('consent_records')
    .selectAll()
    .where('portal_id', '=', portalId)
    .where('phone', '=', phone);
}

/** Every registry row for a number, contacts first, by ID. */
export async function consentRowsForPhone(
  conn: Connection,
  portalId: string,
  phone: string,
): Promise<ConsentRecordRow[]> {
  const rows = await consentLookupQuery(conn, portalId, phone).execute();
  return rows.sort((a, b) =>
    a.entity_type === b.entity_type
      ? Number(a.entity_id) - Number(b.entity_id)
      : a.entity_type < b.entity_type
        ? -1
        : 1,
  );
}

/** Counts of the registry of one portal (admin page, tests). */
export async function consentRegistryStats(
  conn: Connection,
  portalId: string,
): Promise<{ records: number; phones: number; yes: number; no: number }> {
  const row = await conn.db
    .selectFrom('consent_records')
    .select((eb) => [
      eb.fn.countAll<number>().as('records'),
      eb.fn.count<number>('phone').distinct().as('phones'),
      eb.fn.sum<number>(eb.case().when('consent', '=', 1).then(1).else(0).end()).as('yes'),
      eb.fn.sum<number>(eb.case().when('consent', '=', 0).then(1).else(0).end()).as('no'),
    ])
    .where('portal_id', '=', portalId)
    .executeTakeFirstOrThrow();
  return {
    records: Number(row.records),
    phones: Number(row.phones),
    yes: Number(row.yes ?? 0),
    no: Number(row.no ?? 0),
  };
}

/** Remembers that a live lookup found the number on no CRM record. */
export async function recordConsentMiss(
  conn: Connection,
  portalId: string,
  phone: string,
  now: number,
): Promise<void> {
  await conn.db
    .insertInto('consent_misses')
    .values({ portal_id: portalId, phone, checked_at: now })
    .onConflict((oc) => oc.columns(['portal_id', 'phone']).doUpdateSet({ checked_at: now }))
    .execute();
}

export async function getConsentMiss(
  conn: Connection,
  portalId: string,
  phone: string,
): Promise<{ checked_at: number } | undefined> {
  return conn.db
    .selectFrom('consent_misses')
    .select('checked_at')
    .where('portal_id', '=', portalId)
    .where('phone', '=', phone)
    .executeTakeFirst();
}

export function getSyncState(
  conn: Connection,
  portalId: string,
  entityType: ConsentEntityType,
): Promise<ConsentSyncState | undefined> {
  return conn.db
    .selectFrom('consent_sync')
    .selectAll()
    .where('portal_id', '=', portalId)
    .where('entity_type', '=', entityType)
    .executeTakeFirst();
}

async function writeCursor(
  db: Kysely<Database>,
  portalId: string,
  entityType: ConsentEntityType,
  cursor: SyncCursor,
  now: number,
): Promise<void> {
  const values = {
    since: cursor.since,
    pass_started_at: cursor.pass_started_at,
    pass_full: cursor.pass_full,
    last_id: cursor.last_id,
    pass_max_modified: cursor.pass_max_modified,
    ...(cursor.full_synced_at !== undefined ? { full_synced_at: cursor.full_synced_at } : {}),
    ...(cursor.last_synced_at !== undefined ? { last_synced_at: cursor.last_synced_at } : {}),
    ...(cursor.last_error !== undefined ? { last_error: cursor.last_error } : {}),
    updated_at: now,
  };
  await db
    .insertInto('consent_sync')
    .values({ portal_id: portalId, entity_type: entityType, ...values })
    .onConflict((oc) => oc.columns(['portal_id', 'entity_type']).doUpdateSet(values))
    .execute();
}

/**
 * One step of a sync pass, atomically: the records read and the cursor that follows them.
 * A crash between steps resumes from the last committed `last_id`, never skipping a page.
 */
export async function commitSyncStep(
  conn: Connection,
  portalId: string,
  entityType: ConsentEntityType,
  records: ConsentRecordInput[],
  cursor: SyncCursor,
  now: number,
): Promise<void> {
  await conn.db.transaction().execute(async (trx) => {
    await replaceRecords(trx, portalId, records, now);
    await writeCursor(trx, portalId, entityType, cursor, now);
  });
}

/** Notes a failed sync step on the cursor (the pass resumes where it stopped). */
export async function recordSyncError(
  conn: Connection,
  portalId: string,
  entityType: ConsentEntityType,
  message: string,
  now: number,
): Promise<void> {
  await conn.db
    .updateTable('consent_sync')
    .set({ last_error: message, updated_at: now })
    .where('portal_id', '=', portalId)
    .where('entity_type', '=', entityType)
    .execute();
}

/**
 * After a full pass: drops records of this type not read since `passStartedAt` (deleted in
 * the CRM, or merged away). Live lookups during the pass wrote later `synced_at`, so they stay.
 */
export async function dropUnseenRecords(
  conn: Connection,
  portalId: string,
  entityType: ConsentEntityType,
  passStartedAt: number,
): Promise<number> {
  const res = await conn.db
    .deleteFrom('consent_records')
    .where('portal_id', '=', portalId)
    .where('entity_type', '=', entityType)
    .where('synced_at', '<', passStartedAt)
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Forgets what a portal's consent registry knew (its records, its misses, its sync cursor):
 * after its consent field changes, every value was read from the old field. Checks then ask
 * the CRM live, and the next sync pass reads every record again.
 */
export async function forgetConsentRegistry(conn: Connection, portalId: string): Promise<void> {
  for (const table of ['consent_records', 'consent_misses', 'consent_sync'] as const)
    await conn.db.deleteFrom(table).where('portal_id', '=', portalId).execute();
}

// ---------------------------------------------------------------------------------------
// Opt-out list

export interface NewOptout {
  /** Normalized `+375XXXXXXXXX`. */
  phone: string;
  /** Only this portal; default every portal. */
  portalId?: string | null;
  reason?: string | null;
  /** cli | admin | reply (default cli). */
  source?: string;
}

/** Adds a number to the opt-out list; adding it again keeps the first entry (and its date). */
export async function addOptout(
  conn: Connection,
  o: NewOptout,
  now: number,
): Promise<{ optout: Optout; created: boolean }> {
  const scope = o.portalId ?? ALL_PORTALS;
  const inserted = await conn.db
    .insertInto('optouts')
    .values({
      phone: o.phone,
      scope,
      reason: o.reason ?? null,
      source: o.source ?? 'cli',
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['phone', 'scope']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { optout: inserted, created: true };
  const existing = await conn.db
    .selectFrom('optouts')
    .selectAll()
    .where('phone', '=', o.phone)
    .where('scope', '=', scope)
    .executeTakeFirstOrThrow();
  return { optout: existing, created: false };
}

/**
 * Removes a number's opt-outs: the one for `portalId`, or — without it — every entry of the
 * number (the person opted back in). Returns the entries removed.
 */
export async function removeOptout(
  conn: Connection,
  phone: string,
  portalId?: string | null,
): Promise<Optout[]> {
  let q = conn.db.deleteFrom('optouts').where('phone', '=', phone);
  if (portalId) q = q.where('scope', '=', portalId);
  return q.returningAll().execute();
}

/** The opt-out list, oldest first; with `portalId`, the entries that apply to that portal. */
export function listOptouts(conn: Connection, opts: { portalId?: string } = {}): Promise<Optout[]> {
  let q = conn.db.selectFrom('optouts').selectAll();
  if (opts.portalId) q = q.where('scope', 'in', [ALL_PORTALS, opts.portalId]);
  return q.orderBy('created_at').orderBy('phone').execute();
}

/** The earliest opt-out of `phone` that applies to `portalId` (global or that portal's). */
export function findOptout(
  conn: Connection,
  phone: string,
  portalId: string | null,
): Promise<Optout | undefined> {
  return conn.db
    .selectFrom('optouts')
    .selectAll()
    .where('phone', '=', phone)
    .where('scope', 'in', portalId ? [ALL_PORTALS, portalId] : [ALL_PORTALS])
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
}
