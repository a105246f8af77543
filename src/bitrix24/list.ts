import type { Bitrix24Api } from './types.js';

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
