import { MAX_BATCH_COMMANDS } from '../../bitrix24/batch.js';
import { Bitrix24Error } from '../../bitrix24/errors.js';
import { isLimitError, type Patient } from '../../bitrix24/patience.js';
import type { BatchCommand, BatchItemResult, Bitrix24Api } from '../../bitrix24/types.js';
import { normalizePhone } from '../../domain/phone.js';
import { listMethod, type ScannedRecord, type StoredPhone, storedPhones } from './scan.js';
import { isValidMobile, type PhoneEntity, type PhoneRow } from './verdict.js';

/** Bitrix24 answers at most this many records per list command. */
const PAGE = 50;
/** Commands per `batch` (bitrix24/batch.ts). */
const COMMANDS = MAX_BATCH_COMMANDS;

/** `phones fix --json` (SPEC §6) plus what it adds: `stale`, `marked`. */
export interface FixCounts {
  /** Values written back normalized (in a dry run: that would be). */
  fixed: number;
  /** `ok` values, and fixable values found already normalized (an earlier run did it). */
  unchanged: number;
  /** Every other value left alone: landline, foreign, malformed, duplicate, and stale. */
  skipped: number;
  /** Values whose update Bitrix24 refused. */
  errors: number;
  /** Of `skipped`: fixable values the record no longer holds as scanned (edited or removed since). */
  stale: number;
  /** Records whose marker field was (would be) set. */
  marked: number;
}

/** One record the fix looks at again: its fixable values, and whether its marker may change. */
export interface FixTarget {
  entity: PhoneEntity;
  id: number;
  /** Its `fixable` values as scanned. */
  fixes: PhoneRow[];
  /** Check (and set) the marker field on this record. */
  mark: boolean;
}

/** What a fix starts from: the counts known without asking the portal, and the records to re-read. */
export interface FixPlan {
  counts: FixCounts;
  targets: FixTarget[];
}

export function emptyFixCounts(): FixCounts {
  return { fixed: 0, unchanged: 0, skipped: 0, errors: 0, stale: 0, marked: 0 };
}

/** A boolean user field as read: `"1"`/`"0"` (crm.contact.*) or `Y`/`N` (crm.item.*); unset is undefined. */
export function readBoolean(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1' || value === 'Y') return true;
  if (value === false || value === 0 || value === '0' || value === 'N') return false;
  return undefined;
}

/** Whether a record has no number SMS can go to (the marker's Y). */
export function hasNoMobile(phones: readonly Pick<StoredPhone, 'VALUE'>[]): boolean {
  return !phones.some((p) => normalizePhone(p.VALUE).ok);
}

/**
 * Plans a fix from report rows (a scan's, or a CSV's): `ok` values count as unchanged,
 * other non-fixable values as skipped, and each record with fixable values becomes a target.
 */
export class FixPlanner {
  private readonly counts = emptyFixCounts();
  private readonly targets = new Map<string, FixTarget>();

  private target(entity: PhoneEntity, id: number): FixTarget {
    const key = `${entity}:${id}`;
    let t = this.targets.get(key);
    if (!t) {
      t = { entity, id, fixes: [], mark: false };
      this.targets.set(key, t);
    }
    return t;
  }

  addRow(row: PhoneRow): void {
    if (row.verdict === 'ok') this.counts.unchanged += 1;
    else if (row.verdict === 'fixable') this.target(row.entity, row.id).fixes.push(row);
    else this.counts.skipped += 1;
  }

  /**
   * Adds a scanned record; with `markField`, the record is a target when its marker does not
   * already say what its numbers say (Y: no valid mobile number, N: one at least).
   */
  addRecord(record: ScannedRecord, markField?: string): void {
    for (const row of record.rows) this.addRow(row);
    if (!markField) return;
    const noMobile = !record.rows.some((r) => isValidMobile(r.verdict));
    if (readBoolean(record.fields[markField]) !== noMobile)
      this.target(record.entity, record.id).mark = true;
  }

  plan(): FixPlan {
    return { counts: { ...this.counts }, targets: [...this.targets.values()] };
  }
}

export interface FixOptions {
  api: Bitrix24Api;
  portalId: string;
  /** Write (true) or only say what would be written (false: a dry run, read-only). */
  apply: boolean;
  /** Boolean user field to set Y (no valid mobile number) / N on the targets marked. */
  markField?: string;
  /** Sends each request; pass `patience()` to wait out the portal's limits. */
  run?: Patient;
  /** After each chunk: targets handled so far, of all. */
  onProgress?: (done: number, total: number) => void;
  /** A refused update, in words. */
  onError?: (message: string) => void;
  /** Each update about to be sent (in a dry run: that would be), for the user to read. */
  onUpdate?: (u: PlannedUpdate) => void;
}

/** One record's update as the user may read it. */
export interface PlannedUpdate {
  entity: PhoneEntity;
  id: number;
  /** Each changed value: its ID, what it holds, what it gets. */
  phones: { valueId: string; from: string; to: string }[];
  /** The marker value it gets, when it changes. */
  mark?: 'Y' | 'N';
}

/** One update to send: the record, its changed values, the marker value, the rows it fixes. */
interface Update {
  entity: PhoneEntity;
  id: number;
  phones: { ID: string; VALUE: string; VALUE_TYPE: string }[];
  mark?: 'Y' | 'N';
}

function failure(r: BatchItemResult | undefined): string {
  return r && !r.ok ? `${r.error}${r.description ? `: ${r.description}` : ''}` : 'no answer';
}

/**
 * Re-reads the targets (2,500 records per request) and writes back what still needs it:
 * each fixable value the record still holds exactly as scanned becomes its normalized form,
 * `crm.<entity>.update {id, fields: {PHONE: [{ID, VALUE, VALUE_TYPE}]}}` naming only the
 * changed values (never the others, never a deletion), ≤ 50 updates per batch. A value the
 * record no longer holds as scanned is stale (a manager edited or removed it) and is left
 * alone; one already normalized is unchanged. Each update sets absolute values, so a run
 * interrupted anywhere can simply be run again. Returns `plan.counts` plus what it did.
 */
export async function applyFixes(plan: FixPlan, opts: FixOptions): Promise<FixCounts> {
  const run: Patient = opts.run ?? ((request) => request());
  const counts = { ...plan.counts };
  const chunkSize = PAGE * COMMANDS;
  let done = 0;
  for (let start = 0; start < plan.targets.length; start += chunkSize) {
    const chunk = plan.targets.slice(start, start + chunkSize);
    const current = await reread(opts, run, chunk);
    const updates: Update[] = [];
    for (const t of chunk) {
      const rec = current.get(`${t.entity}:${t.id}`);
      const u: Update = { entity: t.entity, id: t.id, phones: [] };
      const from: string[] = [];
      const phones = rec ? storedPhones(rec.PHONE) : [];
      for (const fix of t.fixes) {
        const now = phones.find((p) => p.ID === fix.valueId);
        if (now?.VALUE === fix.original) {
          u.phones.push({ ID: fix.valueId, VALUE: fix.normalized, VALUE_TYPE: now.VALUE_TYPE });
          from.push(fix.original);
        } else if (now?.VALUE === fix.normalized) counts.unchanged += 1;
        else {
          counts.stale += 1;
          counts.skipped += 1;
        }
      }
      if (rec && t.mark && opts.markField) {
        const noMobile = hasNoMobile(phones);
        if (readBoolean(rec[opts.markField]) !== noMobile) u.mark = noMobile ? 'Y' : 'N';
      }
      if (u.phones.length === 0 && !u.mark) continue;
      updates.push(u);
      opts.onUpdate?.({
        entity: u.entity,
        id: u.id,
        phones: u.phones.map((p, i) => ({ valueId: p.ID, from: from[i] as string, to: p.VALUE })),
        ...(u.mark ? { mark: u.mark } : {}),
      });
    }
    if (!opts.apply) {
      for (const u of updates) {
        counts.fixed += u.phones.length;
        if (u.mark) counts.marked += 1;
      }
    } else {
      for (let i = 0; i < updates.length; i += COMMANDS)
        await write(opts, run, updates.slice(i, i + COMMANDS), counts);
    }
    done += chunk.length;
    opts.onProgress?.(done, plan.targets.length);
  }
  return counts;
}

/** The targets' records as they are now, keyed `entity:id` (absent: deleted). */
async function reread(
  opts: FixOptions,
  run: Patient,
  targets: FixTarget[],
): Promise<Map<string, Record<string, unknown>>> {
  const commands: Record<string, BatchCommand> = {};
  const byEntity = new Map<PhoneEntity, number[]>();
  for (const t of targets) byEntity.set(t.entity, [...(byEntity.get(t.entity) ?? []), t.id]);
  let n = 0;
  for (const [entity, ids] of byEntity) {
    for (let i = 0; i < ids.length; i += PAGE) {
      commands[`r${n++}`] = {
        method: listMethod(entity),
        params: {
          order: { ID: 'ASC' },
          filter: { ID: ids.slice(i, i + PAGE) },
          select: ['ID', 'PHONE', ...(opts.markField ? [opts.markField] : [])],
          start: -1,
        },
      };
    }
  }
  // Commands are few (≤ 50 for 2,500 targets of one type; one more per extra type).
  const out = new Map<string, Record<string, unknown>>();
  const keys = Object.keys(commands);
  for (let i = 0; i < keys.length; i += COMMANDS) {
    const part = Object.fromEntries(keys.slice(i, i + COMMANDS).map((k) => [k, commands[k]]));
    const results = await run(async () => {
      const r = await opts.api.batch(opts.portalId, part as Record<string, BatchCommand>);
      // A read is harmless to repeat: on a limit, the whole batch waits and goes again.
      for (const item of Object.values(r))
        if (!item.ok && isLimitError(item.error))
          throw new Bitrix24Error(`Bitrix24 batch hit ${item.error}`, {
            action: 'retry',
            b24Error: item.error,
          });
      return r;
    });
    for (const [key, r] of Object.entries(results)) {
      const method = (part[key] as BatchCommand).method;
      if (!r.ok) throw new Error(`Bitrix24 ${method} failed while re-reading (${failure(r)})`);
      const entity = method.split('.')[1] as PhoneEntity;
      const items = Array.isArray(r.result)
        ? r.result
        : r.result && typeof r.result === 'object'
          ? Object.values(r.result)
          : [];
      for (const item of items as Record<string, unknown>[])
        out.set(`${entity}:${Number(item.ID)}`, item);
    }
  }
  return out;
}

function updateCommand(u: Update, markField: string | undefined): BatchCommand {
  const fields: Record<string, unknown> = {};
  if (u.phones.length > 0) fields.PHONE = u.phones;
  if (u.mark && markField) fields[markField] = u.mark;
  return { method: `crm.${u.entity}.update`, params: { id: u.id, fields } };
}

function tallyUpdate(u: Update, counts: FixCounts): void {
  counts.fixed += u.phones.length;
  if (u.mark) counts.marked += 1;
}

async function write(
  opts: FixOptions,
  run: Patient,
  updates: Update[],
  counts: FixCounts,
): Promise<void> {
  const commands = Object.fromEntries(
    updates.map((u, i) => [`u${i}`, updateCommand(u, opts.markField)]),
  );
  const results = await run(() => opts.api.batch(opts.portalId, commands));
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i] as Update;
    const r = results[`u${i}`];
    if (r?.ok) {
      tallyUpdate(u, counts);
      continue;
    }
    if (r && isLimitError(r.error)) {
      // Alone, the client sees the limit's reset time and waits for it; the update sets
      // absolute values, so sending it again is safe.
      const c = commands[`u${i}`] as BatchCommand;
      try {
        await run(() => opts.api.call(opts.portalId, c.method, c.params));
        tallyUpdate(u, counts);
        continue;
      } catch (err) {
        opts.onError?.(`${u.entity} ${u.id}: ${(err as Error).message}`);
      }
    } else opts.onError?.(`${u.entity} ${u.id}: crm.${u.entity}.update failed (${failure(r)})`);
    counts.errors += Math.max(u.phones.length, 1);
  }
}
