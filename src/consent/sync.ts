import type { BatchCommand, BatchItemResult } from '../bitrix24/types.js';
import { silentLogger } from '../log.js';
import {
  type ConsentRecordInput,
  commitSyncStep,
  dropUnseenRecords,
  getSyncState,
  recordSyncError,
  type SyncCursor,
} from '../store/index.js';
import {
  type ConsentDeps,
  type ConsentEntityType,
  consentFieldOf,
  DEFAULT_ENTITIES,
  methodPrefix,
  PAGE_SIZE,
} from './types.js';
import { b24FilterDate, pageItems, toConsentRecord } from './values.js';

/** Bitrix24 runs at most 50 commands per `batch` (`how-to-call-rest-api/batch.md`). */
const MAX_PAGES_PER_BATCH = 50;

/**
 * DATE_MODIFY has whole seconds and our clock is not the portal's: the next incremental pass
 * starts this much before the window a record could have been missed in (see nextSince).
 */
const OVERLAP_MARGIN_MS = 2_000;

export interface SyncOptions {
  /** Start a full pass now (an incremental pass in progress restarts as a full one). */
  full?: boolean;
  /**
   * Re-read every record, and drop the ones gone from the CRM (deleted, merged), when the
   * last full pass is older than this. Default 24 h.
   */
  fullEveryMs?: number;
  signal?: AbortSignal;
}

export interface EntitySyncResult {
  entity: ConsentEntityType;
  mode: 'full' | 'incremental';
  /** Records read in this call. */
  records: number;
  /** `batch` REST requests made in this call. */
  requests: number;
  /** Registry rows dropped after a full pass (records no longer in the CRM). */
  dropped: number;
  error?: string;
}

export interface SyncResult {
  portalId: string;
  requests: number;
  records: number;
  entities: EntitySyncResult[];
}

/**
 * One entity's run of chained fast-paging list calls inside a `batch`
 * (`api-reference/performance/huge-data.md`): `order {ID: ASC}`, `filter {'>ID': last}`,
 * `start: -1` (no count query). Page k takes its `>ID` from page k−1 of the same batch with
 * `$result[<key k−1>][49][ID]` — the ID of that page's 50th record (`batch.md` shows
 * `$result[key][0][ID]` on a list result).
 *
 * The docs do not say what an unresolved reference becomes (page k−1 shorter than 50), so
 * we only chain as many pages as the count says are left; a page that comes back short
 * ends the pass and the pages after it are never read.
 *
 * `count`: page 0 runs with `start: 0` so its answer carries `result_total`. That is one
 * count query per pass (the probe), not one per page as with offset paging.
 */
function pageCommands(
  entity: ConsentEntityType,
  field: string,
  cursor: SyncCursor,
  pages: number,
  count: boolean,
): Record<string, BatchCommand> {
  const incremental = cursor.pass_full === 0 && cursor.since !== null;
  const dateFilter = incremental ? { '>=DATE_MODIFY': b24FilterDate(cursor.since as number) } : {};
  const cmds: Record<string, BatchCommand> = {};
  for (let k = 0; k < pages; k++) {
    cmds[`${entity}${k}`] = {
      method: `${methodPrefix(entity)}.list`,
      params: {
        order: { ID: 'ASC' },
        filter: {
          ...dateFilter,
          '>ID': k === 0 ? cursor.last_id : `$result[${entity}${k - 1}][${PAGE_SIZE - 1}][ID]`,
        },
        select: ['ID', 'PHONE', field, 'DATE_MODIFY'],
        start: k === 0 && count ? 0 : -1,
      },
    };
  }
  return cmds;
}

/**
 * The next pass's DATE_MODIFY bound. A record modified while this pass ran may have been
 * passed over (its ID was behind us); its DATE_MODIFY is at least the portal's time at pass
 * start. Every record we read has DATE_MODIFY ≤ the portal's time at pass end, so
 * `maxSeen − passDuration` is ≤ the portal's time at pass start; the margin covers whole
 * seconds. Never moves back: the previous bound already satisfied the same argument.
 * With nothing read there is no portal time to anchor on: the bound stays (null = the next
 * pass is full again, which for an empty table is the same one request).
 */
function nextSince(prev: number | null, maxSeen: number | null, durationMs: number): number | null {
  if (maxSeen === null) return prev;
  const bound = maxSeen - durationMs - OVERLAP_MARGIN_MS;
  return prev === null ? bound : Math.max(prev, bound);
}

/** A pass over one CRM type in progress. */
interface Pass {
  entity: ConsentEntityType;
  cursor: SyncCursor;
  full: boolean;
  /** Records left according to the probe's count; undefined until counted. */
  remaining: number | undefined;
  done: boolean;
  error?: unknown;
  result: EntitySyncResult;
}

/** Starts a new pass, or resumes the one a crash or an error interrupted. */
async function openPass(
  deps: ConsentDeps,
  portalId: string,
  entity: ConsentEntityType,
  opts: SyncOptions,
  now: number,
): Promise<Pass> {
  const fullEveryMs = opts.fullEveryMs ?? 24 * 3600_000;
  const st = await getSyncState(deps.conn, portalId, entity);
  let cursor: SyncCursor;
  if (st && st.pass_started_at !== null && !(opts.full && st.pass_full === 0)) {
    cursor = {
      since: st.since,
      pass_started_at: st.pass_started_at,
      pass_full: st.since === null ? 1 : st.pass_full,
      last_id: st.last_id,
      pass_max_modified: st.pass_max_modified,
    };
  } else {
    const full =
      !st ||
      st.since === null ||
      st.full_synced_at === null ||
      opts.full === true ||
      now - st.full_synced_at >= fullEveryMs;
    cursor = {
      since: st?.since ?? null,
      pass_started_at: now,
      pass_full: full ? 1 : 0,
      last_id: 0,
      pass_max_modified: null,
    };
  }
  const full = cursor.pass_full === 1;
  return {
    entity,
    cursor,
    full,
    remaining: undefined,
    done: false,
    result: { entity, mode: full ? 'full' : 'incremental', records: 0, requests: 0, dropped: 0 },
  };
}

/** Reads one pass's pages out of a batch answer and commits them with the cursor. */
async function absorb(
  deps: ConsentDeps,
  portalId: string,
  pass: Pass,
  answers: Record<string, BatchItemResult>,
  pages: number,
  counted: boolean,
): Promise<void> {
  const { entity } = pass;
  const field = await consentFieldOf(deps, portalId);
  const method = `${methodPrefix(entity)}.list`;
  const records: ConsentRecordInput[] = [];
  let last = pass.cursor.last_id;
  let maxSeen = pass.cursor.pass_max_modified;
  let done = false;
  for (let k = 0; k < pages; k++) {
    const a = answers[`${entity}${k}`];
    if (!a?.ok) {
      const why = a ? `${a.error}${a.description ? `: ${a.description}` : ''}` : 'no answer';
      throw new Error(`Bitrix24 ${method} (page after ID ${last}) failed: ${why}`);
    }
    if (k === 0 && counted && a.total !== undefined) pass.remaining = a.total;
    const items = pageItems(a.result);
    for (const item of items) {
      const id = Number(item.ID);
      if (!Number.isInteger(id) || id <= last) {
        throw new Error(
          `Bitrix24 ${method}: cannot page on ID: got ${String(item.ID)} after ${last}`,
        );
      }
      last = id;
      const rec = toConsentRecord(entity, item, field);
      if (rec.modifiedAt !== null && (maxSeen === null || rec.modifiedAt > maxSeen)) {
        maxSeen = rec.modifiedAt;
      }
      records.push(rec);
    }
    if (pass.remaining !== undefined) pass.remaining -= items.length;
    if (items.length < PAGE_SIZE) {
      done = true;
      break;
    }
  }
  // Records created after the count have DATE_MODIFY after the pass start, so the next
  // incremental pass reads them: the count may end a pass without an empty page.
  if (pass.remaining !== undefined && pass.remaining <= 0) done = true;
  pass.result.records += records.length;

  if (!done) {
    pass.cursor = { ...pass.cursor, last_id: last, pass_max_modified: maxSeen, last_error: null };
    await commitSyncStep(deps.conn, portalId, entity, records, pass.cursor, deps.clock.now());
    return;
  }
  const finishedAt = deps.clock.now();
  const passStartedAt = pass.cursor.pass_started_at as number;
  pass.cursor = {
    since: nextSince(pass.cursor.since, maxSeen, finishedAt - passStartedAt),
    pass_started_at: null,
    pass_full: 0,
    last_id: 0,
    pass_max_modified: null,
    last_synced_at: finishedAt,
    last_error: null,
    ...(pass.full ? { full_synced_at: finishedAt } : {}),
  };
  await commitSyncStep(deps.conn, portalId, entity, records, pass.cursor, finishedAt);
  if (pass.full)
    pass.result.dropped = await dropUnseenRecords(deps.conn, portalId, entity, passStartedAt);
  pass.done = true;
}

/**
 * Brings the consent registry of one portal up to date with the CRM, for each configured
 * type (contacts, leads). The first call reads every record (full pass); later calls read
 * only records with DATE_MODIFY at or after the cursor (incremental pass); once a day
 * (`fullEveryMs`) a full pass runs again and drops records gone from the CRM.
 *
 * Every REST request is one `batch`. The first carries a counted first page of each type
 * (the probe); the following ones carry exactly the pages the counts say are left, up to 50
 * per batch, several types sharing a batch. So: 10 000 contacts and no leads = 1 probe + 4
 * batches (199 more pages); an incremental pass with ≤ 50 changes per type = 1 request.
 * Progress is committed per batch, so an interrupted pass resumes where it stopped.
 *
 * Throws after trying every type when one of them failed (the others are still synced).
 */
export async function syncConsent(
  deps: ConsentDeps,
  portalId: string,
  opts: SyncOptions = {},
): Promise<SyncResult> {
  const log = (deps.logger ?? silentLogger).child({ portalId, component: 'consent-sync' });
  const field = await consentFieldOf(deps, portalId);
  const now = deps.clock.now();
  const passes: Pass[] = [];
  for (const entity of deps.entities ?? DEFAULT_ENTITIES) {
    passes.push(await openPass(deps, portalId, entity, opts, now));
  }
  const out: SyncResult = { portalId, requests: 0, records: 0, entities: [] };

  for (;;) {
    const active = passes.filter((p) => !p.done && p.error === undefined);
    if (active.length === 0) break;
    opts.signal?.throwIfAborted();
    // Fill one batch, pass by pass: a counted probe page while a pass's size is unknown,
    // otherwise the pages its count says are left.
    const plan: { pass: Pass; pages: number; counted: boolean }[] = [];
    let capacity = MAX_PAGES_PER_BATCH;
    for (const pass of active) {
      if (capacity === 0) break;
      const left = pass.remaining;
      const counted = left === undefined;
      const want = left === undefined ? 1 : Math.max(1, Math.ceil(left / PAGE_SIZE));
      const pages = Math.min(want, capacity);
      capacity -= pages;
      plan.push({ pass, pages, counted });
    }
    const cmds: Record<string, BatchCommand> = {};
    for (const { pass, pages, counted } of plan) {
      Object.assign(cmds, pageCommands(pass.entity, field, pass.cursor, pages, counted));
    }
    let answers: Record<string, BatchItemResult>;
    try {
      answers = await deps.api.batch(portalId, cmds);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      for (const { pass } of plan) pass.error = err;
      continue;
    } finally {
      out.requests += 1;
      for (const { pass } of plan) pass.result.requests += 1;
    }
    for (const { pass, pages, counted } of plan) {
      try {
        await absorb(deps, portalId, pass, answers, pages, counted);
      } catch (err) {
        pass.error = err;
      }
    }
  }

  let firstError: unknown;
  for (const pass of passes) {
    out.records += pass.result.records;
    if (pass.error === undefined) {
      out.entities.push(pass.result);
      continue;
    }
    const message = pass.error instanceof Error ? pass.error.message : String(pass.error);
    await recordSyncError(deps.conn, portalId, pass.entity, message, deps.clock.now()).catch(
      () => {},
    );
    log.warn(
      { entity: pass.entity, err: message },
      'consent sync failed; the pass resumes next time',
    );
    out.entities.push({ ...pass.result, error: message });
    firstError ??= pass.error;
  }
  log.debug({ requests: out.requests, records: out.records }, 'consent registry synced');
  if (firstError !== undefined) {
    const failed = out.entities.filter((e) => e.error).map((e) => `${e.entity}: ${e.error}`);
    throw new Error(`consent sync of portal ${portalId} failed (${failed.join('; ')})`, {
      cause: firstError,
    });
  }
  return out;
}
