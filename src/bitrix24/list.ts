import { MAX_BATCH_COMMANDS } from './batch.js';
import { Bitrix24Error } from './errors.js';
import { isLimitError, type Patient } from './patience.js';
import type { BatchCommand, BatchItemResult, Bitrix24Api } from './types.js';

export interface FetchAllOptions {
  /** Filter of the list method; the paging condition `>ID` is added to it. Default `{}`. */
  filter?: Record<string, unknown>;
  /** Fields to select; the id field is added when missing. Default: the method's default set. */
  select?: string[];
  /**
   * Records per page the portal returns; a shorter page ends the scan. Default 50, which is
   * what Bitrix24 list methods return (`how-to-call-rest-api/list-methods-pecularities.md`).
   */
  pageSize?: number;
  /** Name of the id field: `ID` for `crm.contact.list` and friends, `id` for `crm.item.list`. Default `ID`. */
  idField?: string;
  /** Extra parameters of the method, e.g. `{entityTypeId: 1036}` for `crm.item.list`. */
  params?: Record<string, unknown>;
  /** Stops the scan between pages. */
  signal?: AbortSignal;
}

/**
 * A list method's page: classic methods answer an array (PHP may encode it as an object
 * keyed 0..n); `crm.item.list` wraps it in `{items}`.
 */
export function pageItems(result: unknown): Record<string, unknown>[] {
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  if (result && typeof result === 'object') {
    const items = (result as { items?: unknown }).items;
    if (Array.isArray(items)) return items as Record<string, unknown>[];
    return Object.values(result) as Record<string, unknown>[];
  }
  return [];
}

/**
 * Scans a whole list page by page the fast way (`api-reference/performance/huge-data.md`):
 * `order {ID: 'ASC'}`, `filter {'>ID': last}`, `start: -1`, so the portal skips the
 * count query that makes deep `start` offsets slow. Yields one page at a time.
 */
export async function* fetchPages<T extends Record<string, unknown> = Record<string, unknown>>(
  api: Bitrix24Api,
  portalId: string,
  method: string,
  opts: FetchAllOptions = {},
): AsyncGenerator<T[]> {
  const idField = opts.idField ?? 'ID';
  const pageSize = opts.pageSize ?? 50;
  const select =
    opts.select && !opts.select.includes(idField) ? [idField, ...opts.select] : opts.select;
  let last = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const result = await api.call(portalId, method, {
      ...opts.params,
      order: { [idField]: 'ASC' },
      filter: { ...opts.filter, [`>${idField}`]: last },
      ...(select ? { select } : {}),
      start: -1,
    });
    const items = pageItems(result) as T[];
    if (items.length > 0) yield items;
    if (items.length < pageSize) return;
    const lastId = Number(items[items.length - 1]?.[idField]);
    if (!Number.isFinite(lastId) || lastId <= last) {
      throw new Error(`${method}: cannot page on ${idField}: got ${String(lastId)} after ${last}`);
    }
    last = lastId;
  }
}

/** Every record of a list method (see `fetchPages`); for big lists prefer iterating the pages. */
export async function fetchAll<T extends Record<string, unknown> = Record<string, unknown>>(
  api: Bitrix24Api,
  portalId: string,
  method: string,
  opts: FetchAllOptions = {},
): Promise<T[]> {
  const all: T[] = [];
  for await (const page of fetchPages<T>(api, portalId, method, opts)) all.push(...page);
  return all;
}

export interface BatchedPagesOptions extends FetchAllOptions {
  /**
   * How many records the scan expects (e.g. from `countLists`). Batches are then sized to
   * end just past the last page instead of carrying up to 49 commands beyond the end, which
   * the portal would still run. Default: unknown, 50 pages per batch.
   */
  expected?: number;
  /**
   * Where the pages sit in a command's result, as a `$result` path: `''` for classic
   * methods (an array), `'[items]'` for `crm.item.list`. Default `''`.
   */
  itemsPath?: string;
  /** Sends each request (e.g. `patience()` to wait out limits). Default: at once. */
  run?: Patient;
}

function pageParams(
  opts: BatchedPagesOptions,
  idField: string,
  select: string[] | undefined,
  after: number | string,
): Record<string, unknown> {
  return {
    ...opts.params,
    order: { [idField]: 'ASC' },
    filter: { ...opts.filter, [`>${idField}`]: after },
    ...(select ? { select } : {}),
    start: -1,
  };
}

function commandFailure(method: string, r: BatchItemResult | undefined): Bitrix24Error {
  const detail =
    r && !r.ok ? `${r.error}${r.description ? `: ${r.description}` : ''}` : 'no answer';
  return new Bitrix24Error(`Bitrix24 ${method} failed inside a batch (${detail})`, {
    action: 'permanent',
    ...(r && !r.ok ? { b24Error: r.error, description: r.description } : {}),
  });
}

/**
 * The fast scan of `fetchPages`, up to 50 pages per HTTP request: one `batch` whose first
 * command pages after the last ID seen and whose every next command pages after the 50th
 * record of the one before (`filter[>ID]=$result[p0][49][ID]`), so 2,500 records cost one
 * request of the portal's budget (`limits.md`).
 *
 * The chain ends at the first short page: the commands after it refer to a record that does
 * not exist, so the portal cannot resolve their reference and what they return is not a
 * continuation — it is never read (nor counted). A command that failed on a limit
 * (OPERATION_TIME_LIMIT of the list method, QUERY_LIMIT_EXCEEDED) is fetched again alone,
 * where the client sees the portal's `operating_reset_at` and waits for it; any other failed
 * command throws. Every page is checked to continue the last (IDs ascending, after it).
 */
export async function* fetchPagesBatched<
  T extends Record<string, unknown> = Record<string, unknown>,
>(
  api: Bitrix24Api,
  portalId: string,
  method: string,
  opts: BatchedPagesOptions = {},
): AsyncGenerator<T[]> {
  const idField = opts.idField ?? 'ID';
  const pageSize = opts.pageSize ?? 50;
  const itemsPath = opts.itemsPath ?? '';
  const run: Patient = opts.run ?? ((request) => request());
  const select =
    opts.select && !opts.select.includes(idField) ? [idField, ...opts.select] : opts.select;
  let last = 0;
  let seen = 0;

  /** Checks that `items` continue after `last` and moves `last`; false when a page is short. */
  const accept = (items: T[]): boolean => {
    for (const item of items) {
      const id = Number(item[idField]);
      if (!Number.isFinite(id) || id <= last) {
        throw new Error(
          `${method}: page does not continue after ${idField} ${last}: got ${String(item[idField])}`,
        );
      }
      last = id;
    }
    seen += items.length;
    return items.length === pageSize;
  };

  for (;;) {
    opts.signal?.throwIfAborted();
    const pages =
      opts.expected === undefined
        ? MAX_BATCH_COMMANDS
        : Math.min(
            MAX_BATCH_COMMANDS,
            Math.max(1, Math.ceil((opts.expected - seen + 1) / pageSize)),
          );
    const commands: Record<string, BatchCommand> = {};
    for (let i = 0; i < pages; i++) {
      const after = i === 0 ? last : `$result[p${i - 1}]${itemsPath}[${pageSize - 1}][${idField}]`;
      commands[`p${i}`] = { method, params: pageParams(opts, idField, select, after) };
    }
    const results = await run(() => api.batch(portalId, commands));
    let retryAlone = false;
    for (let i = 0; i < pages; i++) {
      const r = results[`p${i}`];
      if (!r?.ok) {
        if (r && isLimitError(r.error)) {
          retryAlone = true;
          break;
        }
        throw commandFailure(method, r);
      }
      const items = pageItems(r.result) as T[];
      const full = accept(items);
      if (items.length > 0) yield items;
      if (!full) return;
    }
    if (!retryAlone) continue;
    const single = await run(() =>
      api.call(portalId, method, pageParams(opts, idField, select, last)),
    );
    const items = pageItems(single) as T[];
    const full = accept(items);
    if (items.length > 0) yield items;
    if (!full) return;
  }
}

/**
 * Counts the records of several list methods in one `batch` request: each command asks for
 * one page with `start: 0`, whose answer carries `total` (the count the fast scan skips).
 * A method that fails leaves its key out.
 */
export async function countLists(
  api: Bitrix24Api,
  portalId: string,
  lists: Record<string, { method: string; params?: Record<string, unknown>; idField?: string }>,
  run: Patient = (request) => request(),
): Promise<Record<string, number>> {
  const commands: Record<string, BatchCommand> = {};
  for (const [key, l] of Object.entries(lists)) {
    const idField = l.idField ?? 'ID';
    commands[key] = {
      method: l.method,
      params: { ...l.params, order: { [idField]: 'ASC' }, select: [idField], start: 0 },
    };
  }
  const results = await run(() => api.batch(portalId, commands));
  const out: Record<string, number> = {};
  for (const key of Object.keys(lists)) {
    const r = results[key];
    if (r?.ok && r.total !== undefined) out[key] = r.total;
  }
  return out;
}
