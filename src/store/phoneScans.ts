import type { Selectable } from 'kysely';
import type { Connection } from './dialects/types.js';
import type { PhoneScansTable } from './schema.js';

export type PhoneScan = Selectable<PhoneScansTable>;

/** Records that a scan of a portal's phone base started; returns its id. */
export async function startPhoneScan(
  conn: Connection,
  portalId: string,
  now: number,
): Promise<number> {
  const row = await conn.db
    .insertInto('phone_scans')
    .values({ portal_id: portalId, state: 'running', started_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** One chunk of the scan's CSV report (rows without the header), in order. */
export async function addPhoneScanChunk(
  conn: Connection,
  scanId: number,
  seq: number,
  text: string,
): Promise<void> {
  await conn.db.insertInto('phone_scan_chunks').values({ scan_id: scanId, seq, text }).execute();
}

/**
 * Ends a scan: `done` with its tally (the portal's earlier scans and their reports are
 * deleted: the last one is what counts), or `failed` with the error (earlier ones kept).
 */
export async function finishPhoneScan(
  conn: Connection,
  scanId: number,
  outcome: { tally: unknown } | { error: string },
  now: number,
): Promise<void> {
  await conn.db.transaction().execute(async (trx) => {
    const scan = await trx
      .updateTable('phone_scans')
      .set(
        'tally' in outcome
          ? { state: 'done', finished_at: now, tally: JSON.stringify(outcome.tally) }
          : { state: 'failed', finished_at: now, error: outcome.error },
      )
      .where('id', '=', scanId)
      .returning('portal_id')
      .executeTakeFirstOrThrow();
    if (!('tally' in outcome)) return;
    const older = trx
      .selectFrom('phone_scans')
      .select('id')
      .where('portal_id', '=', scan.portal_id)
      .where('id', '<', scanId);
    await trx.deleteFrom('phone_scan_chunks').where('scan_id', 'in', older).execute();
    await trx
      .deleteFrom('phone_scans')
      .where('portal_id', '=', scan.portal_id)
      .where('id', '<', scanId)
      .execute();
  });
}

/** Scans, newest first: of one portal, or of every portal. */
export function listPhoneScans(conn: Connection, portalId?: string): Promise<PhoneScan[]> {
  let q = conn.db.selectFrom('phone_scans').selectAll().orderBy('id', 'desc').limit(100);
  if (portalId !== undefined) q = q.where('portal_id', '=', portalId);
  return q.execute();
}

export function getPhoneScan(conn: Connection, id: number): Promise<PhoneScan | undefined> {
  return conn.db.selectFrom('phone_scans').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The report's chunks after `afterSeq`, a few at a time (a download streams them). */
export async function phoneScanChunks(
  conn: Connection,
  scanId: number,
  afterSeq: number,
  limit: number,
): Promise<{ seq: number; text: string }[]> {
  const rows = await conn.db
    .selectFrom('phone_scan_chunks')
    .select(['seq', 'text'])
    .where('scan_id', '=', scanId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ seq: Number(r.seq), text: r.text }));
}
