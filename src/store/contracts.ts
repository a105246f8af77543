import type { Insertable, Selectable } from 'kysely';
import type { Connection } from './dialects/types.js';
import type { AlphaHoldsTable, ContractsTable } from './schema.js';

export type Contract = Selectable<ContractsTable>;
export type AlphaHold = Selectable<AlphaHoldsTable>;

/** The contract made of the environment's MTS settings. */
export const DEFAULT_CONTRACT = 'default';

/** The id of a portal's own contract. */
export function portalContractId(portalId: string): string {
  return `portal:${portalId}`;
}

export type ContractFields = Omit<
  Insertable<ContractsTable>,
  | 'pace'
  | 'pace_at'
  | 'next_slot_us'
  | 'paused_until'
  | 'pause_reason'
  | 'pause_code'
  | 'paused_since'
  | 'probe_interval_ms'
  | 'created_at'
  | 'updated_at'
>;

/**
 * Creates or updates a contract's settings; its live state (pace, slots, pause) is kept.
 * A changed credential clears a credential pause at once: the admin fixed it.
 */
export async function upsertContract(
  conn: Connection,
  c: ContractFields,
  now: number,
): Promise<Contract> {
  const prev = await getContract(conn, c.id);
  if (!prev) {
    await conn.db
      .insertInto('contracts')
      .values({
        ...c,
        pace: 1,
        pace_at: 0,
        next_slot_us: 0,
        probe_interval_ms: 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  } else {
    const credentialsChanged =
      prev.login !== (c.login ?? null) ||
      prev.password_enc !== (c.password_enc ?? null) ||
      prev.token_enc !== (c.token_enc ?? null) ||
      prev.client_id !== (c.client_id ?? null) ||
      prev.api_url !== (c.api_url ?? null);
    await conn.db
      .updateTable('contracts')
      .set({
        ...c,
        updated_at: now,
        ...(credentialsChanged
          ? {
              paused_until: null,
              pause_reason: null,
              pause_code: null,
              paused_since: null,
              probe_interval_ms: 0,
            }
          : {}),
      })
      .where('id', '=', c.id)
      .execute();
  }
  return (await getContract(conn, c.id)) as Contract;
}

export function getContract(conn: Connection, id: string): Promise<Contract | undefined> {
  return conn.db.selectFrom('contracts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listContracts(conn: Connection): Promise<Contract[]> {
  return conn.db.selectFrom('contracts').selectAll().orderBy('id').execute();
}

/**
 * Moves the messages waiting on contract `from` (queued or held) to contract `to`; returns
 * how many moved. Messages already claimed or sent keep the contract they went out on.
 */
export async function moveWaitingMessages(
  conn: Connection,
  from: string,
  to: string,
): Promise<number> {
  const r = await conn.db
    .updateTable('messages')
    .set({ contract_id: to })
    .where('contract_id', '=', from)
    .where('state', 'in', ['queued', 'held'])
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function deleteContract(conn: Connection, id: string): Promise<void> {
  await conn.db.deleteFrom('alpha_holds').where('contract_id', '=', id).execute();
  await conn.db.deleteFrom('contracts').where('id', '=', id).execute();
}

/**
 * Pauses a contract (account-level refusal: credentials, balance, connection). Keeps the
 * incident's start and probe interval when it is already paused; the first probe goes after
 * `probeInMs`. Returns true when this call started the incident (alert once).
 */
export async function pauseContract(
  conn: Connection,
  id: string,
  p: { reason: string; code: string; probeInMs: number },
  now: number,
): Promise<boolean> {
  const started = await conn.db
    .updateTable('contracts')
    .set({
      paused_until: now + p.probeInMs,
      pause_reason: p.reason,
      pause_code: p.code,
      paused_since: now,
      probe_interval_ms: p.probeInMs,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('paused_since', 'is', null)
    .executeTakeFirst();
  if (Number(started.numUpdatedRows) === 1) return true;
  await conn.db
    .updateTable('contracts')
    .set({ pause_reason: p.reason, pause_code: p.code, updated_at: now })
    .where('id', '=', id)
    .execute();
  return false;
}

/**
 * Takes the right to send one probe on a paused contract: only one instance wins, and the
 * next probe is pushed `nextIntervalMs` away whatever this one's outcome.
 */
export async function takeContractProbe(
  conn: Connection,
  id: string,
  nextIntervalMs: number,
  now: number,
): Promise<boolean> {
  const r = await conn.db
    .updateTable('contracts')
    .set({ paused_until: now + nextIntervalMs, probe_interval_ms: nextIntervalMs, updated_at: now })
    .where('id', '=', id)
    .where('paused_until', '<=', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Ends a pause; true when it was paused (alert "resumed" once). */
export async function resumeContract(conn: Connection, id: string, now: number): Promise<boolean> {
  const r = await conn.db
    .updateTable('contracts')
    .set({
      paused_until: null,
      pause_reason: null,
      pause_code: null,
      paused_since: null,
      probe_interval_ms: 0,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('paused_since', 'is not', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Sets the adaptive pace, only if nobody changed it since `seenPaceAt` (one decrease per storm). */
export async function setPace(
  conn: Connection,
  id: string,
  pace: number,
  seenPaceAt: number,
  now: number,
): Promise<boolean> {
  const r = await conn.db
    .updateTable('contracts')
    .set({ pace, pace_at: now })
    .where('id', '=', id)
    .where('pace_at', '=', seenPaceAt)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Holds an alpha name on a contract: its queued messages become `held` (out of the claim
 * index, so they cost nothing while they wait). True when this call started the hold.
 */
export async function holdAlpha(
  conn: Connection,
  h: {
    contractId: string;
    alphaName: string;
    reason: string;
    code: string | null;
    probeInMs: number;
  },
  now: number,
): Promise<boolean> {
  return conn.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('alpha_holds')
      .values({
        contract_id: h.contractId,
        alpha_name: h.alphaName,
        reason: h.reason,
        code: h.code,
        since: now,
        probe_at: now + h.probeInMs,
        interval_ms: h.probeInMs,
      })
      .onConflict((oc) => oc.columns(['contract_id', 'alpha_name']).doNothing())
      .executeTakeFirst();
    await trx
      .updateTable('messages')
      .set({ state: 'held', hold_reason: h.reason, updated_at: now })
      .where('contract_id', '=', h.contractId)
      .where('alpha_name', '=', h.alphaName)
      .where('state', '=', 'queued')
      .execute();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
  });
}

export function listHolds(conn: Connection): Promise<AlphaHold[]> {
  return conn.db.selectFrom('alpha_holds').selectAll().orderBy('since').execute();
}

/**
 * When a held alpha name's probe is due, releases exactly one of its messages to the queue
 * (the probe) and pushes the next probe `nextIntervalMs` away. Returns the released id.
 */
export async function releaseAlphaProbe(
  conn: Connection,
  contractId: string,
  alphaName: string,
  nextIntervalMs: number,
  now: number,
): Promise<string | null> {
  return conn.db.transaction().execute(async (trx) => {
    const taken = await trx
      .updateTable('alpha_holds')
      .set({ probe_at: now + nextIntervalMs, interval_ms: nextIntervalMs })
      .where('contract_id', '=', contractId)
      .where('alpha_name', '=', alphaName)
      .where('probe_at', '<=', now)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) !== 1) return null;
    const hold = await trx
      .selectFrom('alpha_holds')
      .select('reason')
      .where('contract_id', '=', contractId)
      .where('alpha_name', '=', alphaName)
      .executeTakeFirstOrThrow();
    // Messages queued since the hold began join the held ones first.
    await trx
      .updateTable('messages')
      .set({ state: 'held', hold_reason: hold.reason, updated_at: now })
      .where('contract_id', '=', contractId)
      .where('alpha_name', '=', alphaName)
      .where('state', '=', 'queued')
      .where('hold_reason', 'is', null)
      .execute();
    const probe = await trx
      .selectFrom('messages')
      .select('id')
      .where('contract_id', '=', contractId)
      .where('alpha_name', '=', alphaName)
      .where('state', '=', 'held')
      .orderBy('priority')
      .orderBy('vt')
      .limit(1)
      .executeTakeFirst();
    if (!probe) {
      // Nothing waits on this name any more: the hold has nothing to protect.
      await trx
        .deleteFrom('alpha_holds')
        .where('contract_id', '=', contractId)
        .where('alpha_name', '=', alphaName)
        .execute();
      return null;
    }
    // A queued message that keeps its hold_reason is the probe: the claim lets it through.
    await trx
      .updateTable('messages')
      .set({ state: 'queued', run_at: now, updated_at: now })
      .where('id', '=', probe.id)
      .where('state', '=', 'held')
      .execute();
    return probe.id;
  });
}

/** Ends a hold: every held message of the name goes back to the queue. True when one existed. */
export async function releaseAlpha(
  conn: Connection,
  contractId: string,
  alphaName: string,
  now: number,
): Promise<boolean> {
  return conn.db.transaction().execute(async (trx) => {
    const r = await trx
      .deleteFrom('alpha_holds')
      .where('contract_id', '=', contractId)
      .where('alpha_name', '=', alphaName)
      .executeTakeFirst();
    await trx
      .updateTable('messages')
      .set({ state: 'queued', hold_reason: null, updated_at: now })
      .where('contract_id', '=', contractId)
      .where('alpha_name', '=', alphaName)
      .where('state', '=', 'held')
      .execute();
    return Number(r.numDeletedRows) > 0;
  });
}
