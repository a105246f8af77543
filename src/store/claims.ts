import { sql } from 'kysely';
import type { Contract } from './contracts.js';
import type { Connection } from './dialects/types.js';
import type { Message } from './outbox.js';

/** How many messages a claim may take and how far apart their rate slots are. */
export interface ClaimPlan {
  max: number;
  spacingUs: number;
}

export interface Claim {
  contract: Contract;
  messages: Message[];
  /** The rate slot of each message (epoch µs), in claim order. */
  slotsUs: number[];
}

/** Locks the contract's row for the rest of the transaction and returns it. */
async function lockContract(
  trx: Connection['db'],
  contractId: string,
): Promise<Contract | undefined> {
  return trx
    .updateTable('contracts')
    .set({ next_slot_us: sql`next_slot_us` })
    .where('id', '=', contractId)
    .returningAll()
    .executeTakeFirst();
}

function slots(nextSlotUs: number, nowUs: number, n: number, spacingUs: number): number[] {
  const start = Math.max(nowUs, nextSlotUs);
  return Array.from({ length: n }, (_, i) => start + i * spacingUs);
}

/**
 * One transaction takes the next due messages of a contract — highest lane first, then the
 * fair order (virtual time) — marks them `sending`, and hands them the contract's next rate
 * slots. The contract row's lock serializes claims of every instance, so slots never overlap;
 * on PostgreSQL SKIP LOCKED also keeps claims off rows another transaction is changing.
 * Messages of a held alpha name are skipped, except the one released as its probe.
 */
export async function claimForSending(
  conn: Connection,
  contractId: string,
  workerId: string,
  now: number,
  plan: (c: Contract) => ClaimPlan | null,
): Promise<Claim | undefined> {
  return conn.db.transaction().execute(async (trx) => {
    const contract = await lockContract(trx, contractId);
    if (!contract) return undefined;
    const p = plan(contract);
    if (!p || p.max <= 0) return { contract, messages: [], slotsUs: [] };
    let due = trx
      .selectFrom('messages')
      .select('id')
      .where('contract_id', '=', contractId)
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('hold_reason', 'is not', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('alpha_holds')
                .select('alpha_holds.alpha_name')
                .whereRef('alpha_holds.contract_id', '=', 'messages.contract_id')
                .whereRef('alpha_holds.alpha_name', '=', 'messages.alpha_name'),
            ),
          ),
        ]),
      )
      .orderBy('priority')
      .orderBy('vt')
      .orderBy('created_at')
      .limit(p.max);
    if (conn.caps.skipLocked) due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return { contract, messages: [], slotsUs: [] };
    const rows = await trx
      .updateTable('messages')
      .set((eb) => ({
        state: 'sending',
        locked_by: workerId,
        locked_at: now,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('id', 'in', ids)
      .where('state', '=', 'queued')
      .returningAll()
      .execute();
    const order = new Map(ids.map((id, i) => [id, i]));
    rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    const slotsUs = slots(
      Number(contract.next_slot_us),
      Math.floor(now * 1000),
      rows.length,
      p.spacingUs,
    );
    await trx
      .updateTable('contracts')
      .set({ next_slot_us: (slotsUs.at(-1) ?? 0) + p.spacingUs })
      .where('id', '=', contractId)
      .execute();
    return { contract, messages: rows, slotsUs };
  });
}

/** Reserves `n` more rate slots of a contract (a lookup, a status poll, a late message). */
export async function reserveSlots(
  conn: Connection,
  contractId: string,
  n: number,
  spacingUs: (c: Contract) => number,
  nowUs: number,
): Promise<number[]> {
  return conn.db.transaction().execute(async (trx) => {
    const contract = await lockContract(trx, contractId);
    if (!contract) throw new Error(`unknown MTS contract ${contractId}`);
    const s = spacingUs(contract);
    const out = slots(Number(contract.next_slot_us), nowUs, n, s);
    await trx
      .updateTable('contracts')
      .set({ next_slot_us: (out.at(-1) ?? 0) + s })
      .where('id', '=', contractId)
      .execute();
    return out;
  });
}

/** Whether a contract has a message due now: one index probe, read only (idle loops call it). */
export async function hasDueWork(
  conn: Connection,
  contractId: string,
  now: number,
): Promise<boolean> {
  const row = await conn.db
    .selectFrom('messages')
    .select('id')
    .where('state', '=', 'queued')
    .where('run_at', '<=', now)
    .where('contract_id', '=', contractId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
