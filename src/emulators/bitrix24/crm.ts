import type { Clock } from '../../clock.js';
import {
  type CrmRecord,
  formatDate,
  MULTI_FIELDS,
  type MultiFieldValue,
  matchesFilter,
  sortRecords,
} from './crmQuery.js';

/** CRM entity type ids (`crm.item.*` `entityTypeId`, `bindings[n][OWNER_TYPE_ID]`). */
export const ENTITY_TYPE = { LEAD: 1, DEAL: 2, CONTACT: 3, COMPANY: 4 } as const;

/** Bitrix24 list methods return at most this many records a page. */
export const PAGE_SIZE = 50;

/** Fields a new record gets unless given, per entity type (a subset of the real ones). */
const DEFAULTS: Record<number, CrmRecord> = {
  [ENTITY_TYPE.LEAD]: {
    TITLE: '',
    NAME: '',
    LAST_NAME: '',
    STATUS_ID: 'NEW',
    SOURCE_ID: 'CALL',
    OPPORTUNITY: '0.00',
    CURRENCY_ID: 'BYN',
    ASSIGNED_BY_ID: '1',
    CONTACT_ID: null,
    COMPANY_ID: null,
  },
  [ENTITY_TYPE.DEAL]: {
    TITLE: '',
    STAGE_ID: 'NEW',
    CATEGORY_ID: '0',
    OPPORTUNITY: '0.00',
    CURRENCY_ID: 'BYN',
    ASSIGNED_BY_ID: '1',
    CONTACT_ID: null,
    COMPANY_ID: null,
    CLOSED: 'N',
    OPENED: 'Y',
  },
  [ENTITY_TYPE.CONTACT]: {
    NAME: '',
    LAST_NAME: '',
    SECOND_NAME: '',
    TYPE_ID: 'CLIENT',
    SOURCE_ID: 'SELF',
    ASSIGNED_BY_ID: '1',
    COMPANY_ID: null,
    OPENED: 'Y',
    EXPORT: 'Y',
  },
  [ENTITY_TYPE.COMPANY]: { TITLE: '', COMPANY_TYPE: 'CUSTOMER', ASSIGNED_BY_ID: '1', OPENED: 'Y' },
};

/** What a seeding helper or `*.add` may pass for a multifield: strings or `{VALUE, VALUE_TYPE}`. */
export type MultiFieldInput =
  | string
  | { ID?: string | number; VALUE?: string; VALUE_TYPE?: string; DELETE?: string };

export interface ListQuery {
  filter?: Record<string, unknown>;
  order?: Record<string, unknown>;
  /** `-1`: no count, no `next` (the fast scan); otherwise the offset. Default 0. */
  start?: number;
}

export interface ListPage {
  records: CrmRecord[];
  /** Matching records; `undefined` with `start = -1`. */
  total?: number;
  next?: number;
}

/** Tells the store which user fields are booleans, so `Y`/`1`/true are stored alike. */
export type UserFieldTypeLookup = (entityTypeId: number, fieldName: string) => string | undefined;

function isBooleanInput(v: unknown): boolean | undefined {
  if (v === true || v === 'Y' || v === '1' || v === 1 || v === 'true') return true;
  if (v === false || v === 'N' || v === '0' || v === 0 || v === 'false' || v === '') return false;
  return undefined;
}

/**
 * The emulated CRM: records by entity type, stored with Bitrix24's upper-case field names,
 * multifields as `[{ID, VALUE, VALUE_TYPE, TYPE_ID}]`, booleans of boolean user fields as
 * JS booleans (each API presents them its own way). `DATE_CREATE` / `DATE_MODIFY` are kept.
 */
export class CrmStore {
  private readonly tables = new Map<number, Map<number, CrmRecord>>();
  /** Every ID of a type, ascending (IDs only grow and records are never removed). */
  private readonly ids = new Map<number, number[]>();
  private readonly nextId = new Map<number, number>();
  private nextMultiId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly userFieldType: UserFieldTypeLookup = () => undefined,
  ) {}

  private table(entityTypeId: number): Map<number, CrmRecord> {
    let t = this.tables.get(entityTypeId);
    if (!t) {
      t = new Map();
      this.tables.set(entityTypeId, t);
    }
    return t;
  }

  private writeFields(entityTypeId: number, rec: CrmRecord, fields: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(fields)) {
      if (key === 'ID' || key === 'DATE_CREATE' || key === 'DATE_MODIFY') continue;
      if (MULTI_FIELDS.has(key)) {
        rec[key] = this.mergeMulti(key, (rec[key] as MultiFieldValue[] | undefined) ?? [], value);
        continue;
      }
      const ufType = key.startsWith('UF_') ? this.userFieldType(entityTypeId, key) : undefined;
      if (typeof value === 'boolean' || ufType === 'boolean') {
        rec[key] = isBooleanInput(value) ?? false;
      } else {
        rec[key] = value;
      }
    }
    const phones = (rec.PHONE as MultiFieldValue[] | undefined) ?? [];
    const emails = (rec.EMAIL as MultiFieldValue[] | undefined) ?? [];
    if (
      entityTypeId === ENTITY_TYPE.CONTACT ||
      entityTypeId === ENTITY_TYPE.LEAD ||
      entityTypeId === ENTITY_TYPE.COMPANY
    ) {
      rec.HAS_PHONE = phones.length > 0 ? 'Y' : 'N';
      rec.HAS_EMAIL = emails.length > 0 ? 'Y' : 'N';
    }
  }

  /**
   * Multifield update rules of `crm.*.update`: an item with a known ID changes that value
   * (an empty VALUE or `DELETE: 'Y'` removes it); an item without ID is added.
   */
  private mergeMulti(
    typeId: string,
    current: MultiFieldValue[],
    input: unknown,
  ): MultiFieldValue[] {
    const items: MultiFieldInput[] = Array.isArray(input)
      ? input
      : input && typeof input === 'object'
        ? (Object.values(input) as MultiFieldInput[])
        : typeof input === 'string'
          ? [input]
          : [];
    const out = current.map((v) => ({ ...v }));
    for (const item of items) {
      const it = typeof item === 'string' ? { VALUE: item } : item;
      const id = it.ID !== undefined && it.ID !== '' ? String(it.ID) : undefined;
      const existing = id ? out.find((v) => v.ID === id) : undefined;
      if (existing) {
        if (it.DELETE === 'Y' || it.VALUE === '') {
          out.splice(out.indexOf(existing), 1);
        } else {
          if (it.VALUE !== undefined) existing.VALUE = it.VALUE;
          if (it.VALUE_TYPE) existing.VALUE_TYPE = it.VALUE_TYPE;
        }
        continue;
      }
      if (!it.VALUE) continue;
      out.push({
        ID: String(this.nextMultiId++),
        VALUE: it.VALUE,
        VALUE_TYPE: it.VALUE_TYPE ?? (typeId === 'PHONE' ? 'WORK' : 'WORK'),
        TYPE_ID: typeId,
      });
    }
    return out;
  }

  /** Adds a record; returns its ID. */
  add(entityTypeId: number, fields: Record<string, unknown>): number {
    const id = this.nextId.get(entityTypeId) ?? 1;
    this.nextId.set(entityTypeId, id + 1);
    const now = formatDate(this.clock.now());
    const rec: CrmRecord = {
      ID: String(id),
      ...(DEFAULTS[entityTypeId] ?? { TITLE: '' }),
      DATE_CREATE: now,
      DATE_MODIFY: now,
      CREATED_BY_ID: '1',
      MODIFY_BY_ID: '1',
    };
    this.writeFields(entityTypeId, rec, fields);
    this.table(entityTypeId).set(id, rec);
    let ids = this.ids.get(entityTypeId);
    if (!ids) {
      ids = [];
      this.ids.set(entityTypeId, ids);
    }
    ids.push(id);
    return id;
  }

  /** Updates a record; false when there is none with that ID. */
  update(entityTypeId: number, id: number, fields: Record<string, unknown>): boolean {
    const rec = this.table(entityTypeId).get(id);
    if (!rec) return false;
    this.writeFields(entityTypeId, rec, fields);
    rec.DATE_MODIFY = formatDate(this.clock.now());
    return true;
  }

  get(entityTypeId: number, id: number): CrmRecord | undefined {
    return this.table(entityTypeId).get(id);
  }

  /** Every record of a type, by ID. */
  all(entityTypeId: number): CrmRecord[] {
    return [...this.table(entityTypeId).values()];
  }

  list(entityTypeId: number, q: ListQuery): ListPage {
    const filter = q.filter ?? {};
    const order = q.order && Object.keys(q.order).length > 0 ? q.order : { ID: 'ASC' };
    const byId = isIdAscending(order);
    const start = q.start ?? 0;
    const candidates = this.candidates(entityTypeId, filter);
    if (byId && start < 0) {
      // The fast scan (huge-data.md): candidates are in ID order already, stop at a page.
      const records: CrmRecord[] = [];
      for (const r of candidates) {
        if (!matchesFilter(r, filter)) continue;
        records.push(r);
        if (records.length === PAGE_SIZE) break;
      }
      return { records };
    }
    const kept = [...candidates].filter((r) => matchesFilter(r, filter));
    const matched = byId ? kept : sortRecords(kept, order);
    if (start < 0) return { records: matched.slice(0, PAGE_SIZE) };
    const records = matched.slice(start, start + PAGE_SIZE);
    const page: ListPage = { records, total: matched.length };
    if (start + PAGE_SIZE < matched.length) page.next = start + PAGE_SIZE;
    return page;
  }

  /**
   * The records a filter can match, in ascending ID order, narrowed by its ID condition
   * (`ID`/`=ID`/`@ID` with a list, or a numeric `>ID`/`>=ID`) so that paging through a big
   * table costs a page, not a table scan. Every record returned still goes through
   * `matchesFilter`: this only skips records the ID condition excludes anyway.
   */
  private *candidates(entityTypeId: number, filter: Record<string, unknown>): Iterable<CrmRecord> {
    const table = this.table(entityTypeId);
    const ids = this.ids.get(entityTypeId) ?? [];
    for (const key of ['ID', '=ID', '@ID']) {
      const v = filter[key];
      const list = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : null;
      if (!list) continue;
      const wanted = [...new Set(list.map(Number).filter(Number.isInteger))].sort((a, b) => a - b);
      for (const id of wanted) {
        const r = table.get(id);
        if (r) yield r;
      }
      return;
    }
    let from = 0;
    for (const [key, strict] of [
      ['>ID', true],
      ['>=ID', false],
    ] as const) {
      const v = filter[key];
      if (v === undefined || v === null || v === '' || typeof v === 'object') continue;
      const n = Number(v);
      if (!Number.isFinite(n)) continue;
      from = Math.max(from, firstIndexAfter(ids, n, strict));
    }
    for (let i = from; i < ids.length; i++) {
      const r = table.get(ids[i] as number);
      if (r) yield r;
    }
  }

  /**
   * `crm.duplicate.findbycomm`: IDs of leads, contacts and companies having any of `values`
   * (phones compared by digits). As documented, once one type has 20 matches the types
   * after it are not searched.
   */
  findByComm(type: 'PHONE' | 'EMAIL', values: string[], only?: number): Record<string, number[]> {
    const norm = (v: string) => (type === 'PHONE' ? v.replace(/\D+/g, '') : v.trim().toLowerCase());
    const wanted = new Set(values.map(norm).filter(Boolean));
    const order: [string, number][] = [
      ['LEAD', ENTITY_TYPE.LEAD],
      ['CONTACT', ENTITY_TYPE.CONTACT],
      ['COMPANY', ENTITY_TYPE.COMPANY],
    ];
    const out: Record<string, number[]> = {};
    for (const [name, typeId] of order) {
      if (only !== undefined && only !== typeId) continue;
      const ids = this.all(typeId)
        .filter((r) =>
          ((r[type] as MultiFieldValue[] | undefined) ?? []).some((v) => wanted.has(norm(v.VALUE))),
        )
        .map((r) => Number(r.ID));
      if (ids.length > 0) out[name] = ids.slice(0, 20);
      if (ids.length >= 20) break;
    }
    return out;
  }
}

/** Whether `order` is ascending ID, the order records are kept in. */
function isIdAscending(order: Record<string, unknown>): boolean {
  const keys = Object.keys(order);
  return keys.length === 1 && keys[0] === 'ID' && String(order.ID).toUpperCase() !== 'DESC';
}

/** Index of the first id above `n` (`strict`) or at least `n`, in an ascending array. */
function firstIndexAfter(ids: number[], n: number, strict: boolean): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const id = ids[mid] as number;
    if (strict ? id <= n : id < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
