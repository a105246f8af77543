import { countLists, fetchPagesBatched } from '../../bitrix24/list.js';
import type { Patient } from '../../bitrix24/patience.js';
import type { Bitrix24Api } from '../../bitrix24/types.js';
import {
  classifyPhone,
  countRow,
  emptyTally,
  type PhoneEntity,
  type PhoneRow,
  type ScanTally,
} from './verdict.js';

/** One PHONE value as `crm.<entity>.list` returns it. */
export interface StoredPhone {
  ID: string;
  VALUE: string;
  VALUE_TYPE: string;
}

/** A scanned record: its ID, its PHONE values in stored order, and any extra fields read. */
export interface ScannedRecord {
  entity: PhoneEntity;
  id: number;
  phones: StoredPhone[];
  /** The extra fields asked for (`extraFields`), as the portal returned them. */
  fields: Record<string, unknown>;
  /** The verdict of each value of `phones`, in the same order. */
  rows: PhoneRow[];
}

/** Progress of a scan, as `onProgress` hears it after every page. */
export interface ScanProgress {
  entity: PhoneEntity;
  /** Records read so far, all types together. */
  done: number;
  /** Records the count found, all types together (undefined when it failed). */
  total: number | undefined;
}

export interface ScanOptions {
  api: Bitrix24Api;
  portalId: string;
  /** CRM types in scan order. Duplicates are judged in this order. */
  entities: readonly PhoneEntity[];
  /** More fields to select besides ID and PHONE (e.g. a marker user field). */
  extraFields?: string[];
  /** Sends each request; pass `patience()` to wait out the portal's limits. */
  run?: Patient;
  onProgress?: (p: ScanProgress) => void;
  /** Told of each page of records, with their verdicts, in scan order. */
  onRecords?: (records: ScannedRecord[]) => void | Promise<void>;
  signal?: AbortSignal;
}

/** `crm.contact.list` and friends. */
export function listMethod(entity: PhoneEntity): string {
  return `crm.${entity}.list`;
}

/** A PHONE multifield as a list, whatever PHP made of it (absent, array, or keyed object). */
export function storedPhones(value: unknown): StoredPhone[] {
  const list = Array.isArray(value)
    ? value
    : value && typeof value === 'object'
      ? Object.values(value)
      : [];
  const out: StoredPhone[] = [];
  for (const v of list) {
    if (!v || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    if (o.ID === undefined || o.ID === null) continue;
    out.push({
      ID: String(o.ID),
      VALUE: typeof o.VALUE === 'string' ? o.VALUE : String(o.VALUE ?? ''),
      VALUE_TYPE: typeof o.VALUE_TYPE === 'string' ? o.VALUE_TYPE : '',
    });
  }
  return out;
}

/**
 * Reads every PHONE value of the portal's CRM (read-only): each type in `entities` in turn,
 * each in ascending ID order, 2,500 records per request (`fetchPagesBatched`), after one
 * request that counts the records of every type for the progress display. Each value gets
 * its verdict (`classifyPhone`, duplicates judged in that order) as it is read; the caller
 * takes the rows page by page through `onRecords`. Returns the counts.
 */
export async function scanPhones(opts: ScanOptions): Promise<ScanTally> {
  const run: Patient = opts.run ?? ((request) => request());
  const tally = emptyTally(opts.entities);
  const counts = await countLists(
    opts.api,
    opts.portalId,
    Object.fromEntries(opts.entities.map((e) => [e, { method: listMethod(e) }])),
    run,
  );
  const known = opts.entities.every((e) => counts[e] !== undefined);
  const total = known ? opts.entities.reduce((sum, e) => sum + (counts[e] ?? 0), 0) : undefined;
  const seen = new Set<string>();
  let done = 0;
  for (const entity of opts.entities) {
    const pages = fetchPagesBatched(opts.api, opts.portalId, listMethod(entity), {
      select: ['ID', 'PHONE', ...(opts.extraFields ?? [])],
      ...(counts[entity] !== undefined ? { expected: counts[entity] } : {}),
      run,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    for await (const page of pages) {
      const records: ScannedRecord[] = page.map((item) => {
        const id = Number(item.ID);
        const phones = storedPhones(item.PHONE);
        const rows = phones.map((p): PhoneRow => {
          const row: PhoneRow = {
            entity,
            id,
            valueId: p.ID,
            valueType: p.VALUE_TYPE,
            original: p.VALUE,
            ...classifyPhone(p.VALUE, seen),
          };
          countRow(tally, row);
          return row;
        });
        return { entity, id, phones, fields: item, rows };
      });
      tally.scanned[entity] = (tally.scanned[entity] ?? 0) + records.length;
      done += records.length;
      await opts.onRecords?.(records);
      opts.onProgress?.({
        entity,
        done,
        total: total === undefined ? undefined : Math.max(total, done),
      });
    }
  }
  return tally;
}
