import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Connection } from './dialects/types.js';
import { type RobotJobsTable, WAITING_STATES } from './schema.js';

export type RobotJob = Selectable<RobotJobsTable>;

/** Commits a robot call; the same event_token twice is one job. */
export async function insertRobotJob(
  conn: Connection,
  j: {
    portalId: string;
    eventToken: string;
    code: string;
    documentId: string[];
    properties: Record<string, unknown>;
    requestId?: string | null;
  },
  now: number,
): Promise<{ job: RobotJob; created: boolean }> {
  const inserted = await conn.db
    .insertInto('robot_jobs')
    .values({
      id: randomUUID(),
      portal_id: j.portalId,
      event_token: j.eventToken,
      code: j.code,
      document_id: JSON.stringify(j.documentId),
      properties: JSON.stringify(j.properties),
      state: 'pending',
      attempts: 0,
      run_at: now,
      event_state: 0,
      event_attempts: 0,
      event_run_at: 0,
      request_id: j.requestId ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('event_token').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { job: inserted, created: true };
  const job = await conn.db
    .selectFrom('robot_jobs')
    .selectAll()
    .where('event_token', '=', j.eventToken)
    .executeTakeFirstOrThrow();
  return { job, created: false };
}

/** Pending jobs that are due. One worker (lease) processes them, so no row locking is needed. */
export function dueRobotJobs(conn: Connection, now: number, limit: number): Promise<RobotJob[]> {
  return conn.db
    .selectFrom('robot_jobs')
    .selectAll()
    .where('state', '=', 'pending')
    .where('run_at', '<=', now)
    .orderBy('run_at')
    .limit(limit)
    .execute();
}

export async function updateRobotJob(
  conn: Connection,
  id: string,
  patch: Partial<Omit<RobotJob, 'id'>>,
  now: number,
): Promise<void> {
  await conn.db
    .updateTable('robot_jobs')
    .set({ ...patch, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/**
 * Takes a pending job for queueing its message; false when it is no longer pending (another
 * worker took it). Call it in the transaction that queues the message.
 */
export async function takeRobotJob(conn: Connection, id: string, now: number): Promise<boolean> {
  const r = await conn.db
    .updateTable('robot_jobs')
    .set({ state: 'queued', updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Fails a pending job with `error`; its answer to Bitrix24 is due at once. */
export async function failRobotJob(
  conn: Connection,
  id: string,
  error: string,
  now: number,
): Promise<void> {
  await conn.db
    .updateTable('robot_jobs')
    .set({ state: 'failed', last_error: error, event_state: 1, event_run_at: 0, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .execute();
}

export interface RobotAnswer {
  job: RobotJob;
  /** The message's state when the job queued one. */
  messageState: string | null;
  failReason: string | null;
  /** The message's number and text (for the trace on the CRM card). */
  phone: string | null;
  text: string | null;
}

/**
 * Jobs whose answer can go to Bitrix24: failed jobs, and queued jobs whose message has left
 * the queue (accepted by MTS, or failed).
 */
export async function dueRobotAnswers(
  conn: Connection,
  now: number,
  limit: number,
): Promise<RobotAnswer[]> {
  const rows = await conn.db
    .selectFrom('robot_jobs as j')
    .leftJoin('messages as m', 'm.id', 'j.message_id')
    .selectAll('j')
    .select([
      'm.state as m_state',
      'm.fail_reason as m_fail_reason',
      'm.phone as m_phone',
      'm.text as m_text',
    ])
    .where('j.event_state', '=', 1)
    .where('j.event_run_at', '<=', now)
    .where((eb) =>
      eb.or([
        eb('j.state', '=', 'failed'),
        eb.and([eb('m.state', 'is not', null), eb('m.state', 'not in', [...WAITING_STATES])]),
      ]),
    )
    .orderBy('j.event_run_at')
    .limit(limit)
    .execute();
  return rows.map(({ m_state, m_fail_reason, m_phone, m_text, ...job }) => ({
    job: job as RobotJob,
    messageState: m_state ?? null,
    failReason: m_fail_reason ?? null,
    phone: m_phone ?? null,
    text: m_text ?? null,
  }));
}
