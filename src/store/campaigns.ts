import type { Selectable } from 'kysely';
import type { Connection } from './dialects/types.js';
import {
  type CampaignRecipientsTable,
  type CampaignState,
  type CampaignsTable,
  type ExclusionReason,
  WAITING_STATES,
} from './schema.js';

export type Campaign = Selectable<CampaignsTable>;
export type CampaignRecipient = Selectable<CampaignRecipientsTable>;

export const EXCLUSION_REASONS: readonly ExclusionReason[] = [
  'no_consent',
  'opted_out',
  'invalid_phone',
  'duplicate',
  'template_error',
];

export type ExcludedCounts = Record<ExclusionReason, number>;

export interface NewRecipient {
  phone: string | null;
  phoneRaw: string | null;
  entityType: string | null;
  entityId: number | null;
  text: string | null;
  parts: number;
  excluded: ExclusionReason | null;
  detail: string | null;
}

export interface NewCampaign {
  portalId: string;
  name: string;
  template: string;
  source: string;
  sourceDetail: string | null;
  alphaName: string;
  sendAt: number | null;
  timeline: boolean;
  recipients: NewRecipient[];
  parts: number;
  cost: number | null;
  durationS: number;
}

/** Rows per INSERT of recipients: well under SQLite's limit of bound parameters. */
const RECIPIENT_CHUNK = 500;

/**
 * Stores a campaign (state `draft`) and its whole audience in one transaction: eligible
 * recipients `pending`, the others `excluded` with their reason.
 */
export async function createCampaign(
  conn: Connection,
  c: NewCampaign,
  now: number,
): Promise<Campaign> {
  const excluded = Object.fromEntries(EXCLUSION_REASONS.map((r) => [r, 0])) as ExcludedCounts;
  for (const r of c.recipients) if (r.excluded) excluded[r.excluded]++;
  const eligible = c.recipients.filter((r) => !r.excluded).length;
  return conn.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('campaigns')
      .values({
        portal_id: c.portalId,
        name: c.name,
        template: c.template,
        source: c.source,
        source_detail: c.sourceDetail,
        alpha_name: c.alphaName,
        send_at: c.sendAt,
        timeline: c.timeline ? 1 : 0,
        state: 'draft',
        recipients: eligible,
        excluded: JSON.stringify(excluded),
        parts: c.parts,
        cost: c.cost,
        duration_s: Math.ceil(c.durationS),
        fed: 0,
        last_error: null,
        created_at: now,
        updated_at: now,
        started_at: null,
        finished_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    for (let i = 0; i < c.recipients.length; i += RECIPIENT_CHUNK) {
      await trx
        .insertInto('campaign_recipients')
        .values(
          c.recipients.slice(i, i + RECIPIENT_CHUNK).map((r, j) => ({
            campaign_id: row.id,
            seq: i + j + 1,
            phone: r.phone,
            phone_raw: r.phoneRaw,
            entity_type: r.entityType,
            entity_id: r.entityId,
            text: r.text,
            parts: r.parts,
            state: r.excluded ? ('excluded' as const) : ('pending' as const),
            excluded: r.excluded,
            detail: r.detail,
            message_id: null,
          })),
        )
        .execute();
    }
    return row;
  });
}

export function getCampaign(conn: Connection, id: number): Promise<Campaign | undefined> {
  return conn.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listCampaigns(conn: Connection, portalId?: string): Promise<Campaign[]> {
  let q = conn.db.selectFrom('campaigns').selectAll().orderBy('id', 'desc');
  if (portalId) q = q.where('portal_id', '=', portalId);
  return q.execute();
}

/** Campaigns the feeder works on (partial index: only running ones). */
export function runningCampaigns(conn: Connection): Promise<Campaign[]> {
  return conn.db
    .selectFrom('campaigns')
    .selectAll()
    .where('state', '=', 'running')
    .orderBy('id')
    .execute();
}

/**
 * Moves a campaign from one of `from` to `to`; false when it was in another state (someone
 * else moved it first, or the move is not allowed from there).
 */
export async function moveCampaign(
  conn: Connection,
  id: number,
  from: readonly CampaignState[],
  to: CampaignState,
  now: number,
  patch: { started_at?: number; finished_at?: number; last_error?: string | null } = {},
): Promise<boolean> {
  const r = await conn.db
    .updateTable('campaigns')
    .set({ state: to, updated_at: now, ...patch })
    .where('id', '=', id)
    .where('state', 'in', [...from])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The next `limit` recipients of a campaign not yet in the outbox, in audience order. */
export function pendingRecipients(
  conn: Connection,
  campaignId: number,
  limit: number,
): Promise<CampaignRecipient[]> {
  return conn.db
    .selectFrom('campaign_recipients')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .where('state', '=', 'pending')
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/**
 * Records that a recipient's message is in the outbox. Run in the transaction that inserted
 * the message: false (→ roll back) when the recipient was no longer pending.
 */
export async function markRecipientFed(
  conn: Connection,
  campaignId: number,
  seq: number,
  messageId: string,
): Promise<boolean> {
  const r = await conn.db
    .updateTable('campaign_recipients')
    .set({ state: 'fed', message_id: messageId })
    .where('campaign_id', '=', campaignId)
    .where('seq', '=', seq)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Adds `n` to the recipients fed so far. With `whileRunning`, only while the campaign runs
 * (false otherwise): the feeder calls it first in its transaction, which also locks the
 * campaign's row on PostgreSQL, so a pause committing meanwhile waits for the feed and then
 * withdraws what it fed.
 */
export async function addCampaignFed(
  conn: Connection,
  campaignId: number,
  n: number,
  now: number,
  opts: { whileRunning?: boolean } = {},
): Promise<boolean> {
  let q = conn.db
    .updateTable('campaigns')
    .set((eb) => ({ fed: eb('fed', '+', n), updated_at: now }))
    .where('id', '=', campaignId);
  if (opts.whileRunning) q = q.where('state', '=', 'running');
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** How many of a campaign's messages wait to be sent or are being sent (indexed). */
export async function campaignInFlight(conn: Connection, campaignId: number): Promise<number> {
  const r = await conn.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', String(campaignId))
    .where('state', 'in', [...WAITING_STATES])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Takes back a campaign's messages that never left: queued and never attempted (a message
 * that was attempted may have reached MTS, so it stays and is sent — or found — as usual).
 * Their rows are deleted and their recipients become `to` (`pending` on pause, to be fed
 * again on resume; `cancelled` on cancel, where the still-pending recipients are cancelled
 * too). Run it in a transaction. Returns how many messages were taken back.
 */
export async function withdrawCampaignMessages(
  conn: Connection,
  campaignId: number,
  to: 'pending' | 'cancelled',
  now: number,
): Promise<number> {
  const unsent = await conn.db
    .selectFrom('messages')
    .select('id')
    .where('campaign_id', '=', String(campaignId))
    .where('state', '=', 'queued')
    .where('attempts', '=', 0)
    .where('unsure', '=', 0)
    .execute();
  let withdrawn = 0;
  for (let i = 0; i < unsent.length; i += RECIPIENT_CHUNK) {
    const ids = unsent.slice(i, i + RECIPIENT_CHUNK).map((m) => m.id);
    const gone = await conn.db
      .deleteFrom('messages')
      .where('id', 'in', ids)
      .where('state', '=', 'queued')
      .where('attempts', '=', 0)
      .returning('id')
      .execute();
    if (gone.length === 0) continue;
    withdrawn += gone.length;
    await conn.db
      .updateTable('campaign_recipients')
      .set({ state: to, message_id: null })
      .where('campaign_id', '=', campaignId)
      .where(
        'message_id',
        'in',
        gone.map((g) => g.id),
      )
      .execute();
  }
  if (to === 'cancelled') {
    await conn.db
      .updateTable('campaign_recipients')
      .set({ state: 'cancelled' })
      .where('campaign_id', '=', campaignId)
      .where('state', '=', 'pending')
      .execute();
  }
  if (withdrawn > 0) await addCampaignFed(conn, campaignId, -withdrawn, now);
  return withdrawn;
}

export interface CampaignProgress {
  /** Recipients by state. */
  recipients: Record<CampaignRecipient['state'], number>;
  /** The campaign's messages by Bitrix24-style status (queued, sent, delivered, …). */
  messages: Record<string, number>;
}

/** Counts for `campaign status`: recipients by state, messages by status (indexed reads). */
export async function campaignProgress(
  conn: Connection,
  campaignId: number,
): Promise<CampaignProgress> {
  const rec = await conn.db
    .selectFrom('campaign_recipients')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', '=', campaignId)
    .groupBy('state')
    .execute();
  const msg = await conn.db
    .selectFrom('messages')
    .select(['b24_status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', '=', String(campaignId))
    .groupBy('b24_status')
    .execute();
  const recipients = { pending: 0, fed: 0, excluded: 0, cancelled: 0 };
  for (const r of rec) recipients[r.state] = Number(r.n);
  return {
    recipients,
    messages: Object.fromEntries(msg.map((m) => [m.b24_status, Number(m.n)])),
  };
}

/** A campaign's recipients (for the admin page and tests), in audience order. */
export function campaignRecipients(
  conn: Connection,
  campaignId: number,
): Promise<CampaignRecipient[]> {
  return conn.db
    .selectFrom('campaign_recipients')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('seq')
    .execute();
}

/** The rendered text of a campaign's first eligible recipient (`campaign test`). */
export async function campaignSampleText(
  conn: Connection,
  campaignId: number,
): Promise<string | undefined> {
  const r = await conn.db
    .selectFrom('campaign_recipients')
    .select('text')
    .where('campaign_id', '=', campaignId)
    .where('text', 'is not', null)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return r?.text ?? undefined;
}
