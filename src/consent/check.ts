import type { BatchCommand, BatchItemResult } from '../bitrix24/types.js';
import { minskDate } from '../domain/minskTime.js';
import { normalizePhone } from '../domain/phone.js';
import { silentLogger } from '../log.js';
import {
  type ConsentRecordInput,
  type ConsentRecordRow,
  consentRowsForPhone,
  findOptout,
  getConsentMiss,
  recordConsentMiss,
  saveConsentRecords,
} from '../store/index.js';
import {
  type ConsentDecision,
  type ConsentDeps,
  type ConsentEntityType,
  consentFieldOf,
  DEFAULT_ENTITIES,
  methodPrefix,
} from './types.js';
import { pageItems, toConsentRecord } from './values.js';

const B24_TYPE: Record<ConsentEntityType, string> = { contact: 'CONTACT', lead: 'LEAD' };

function nobodyHasIt(entities: readonly ConsentEntityType[]): string {
  const what = entities.includes('lead')
    ? entities.includes('contact')
      ? 'contact or lead'
      : 'lead'
    : 'contact';
  return `no marketing consent: no CRM ${what} has this number`;
}

/**
 * The registry's verdict on the rows of one number. Conservative on conflicts: an explicit
 * "no" on any record wins over any number of "yes" (the same person may have asked one
 * manager to stop); with no "no", one "yes" is enough; empty fields alone are no consent.
 */
export function decideFromRows(rows: ConsentRecordRow[], field: string): ConsentDecision {
  const no = rows.find((r) => r.consent === 0);
  if (no) {
    return {
      allowed: false,
      reason: `no marketing consent: ${no.entity_type} #${no.entity_id} has ${field} = no`,
    };
  }
  if (rows.some((r) => r.consent === 1)) return { allowed: true };
  const first = rows[0] as ConsentRecordRow;
  return {
    allowed: false,
    reason: `no marketing consent: ${first.entity_type} #${first.entity_id} has ${field} not set`,
  };
}

/**
 * Forms a number may be stored in on a CRM card. The duplicate index compares digits, so
 * `+375 29…` and `8 029…` are different strings to it; we ask for each (≤ 20 allowed) and
 * keep only records whose phone normalizes to ours.
 */
function searchForms(phone: string): string[] {
  const national = phone.slice(4);
  return [phone, phone.slice(1), `80${national}`, national];
}

function ids(answer: BatchItemResult | undefined, type: string): number[] {
  if (!answer?.ok || !answer.result || typeof answer.result !== 'object') return [];
  const list = (answer.result as Record<string, unknown>)[type];
  const arr = Array.isArray(list)
    ? list
    : list && typeof list === 'object'
      ? Object.values(list)
      : [];
  return arr.map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

function failed(what: string, a: BatchItemResult | undefined): Error {
  const why = a && !a.ok ? `${a.error}${a.description ? `: ${a.description}` : ''}` : 'no answer';
  return new Error(`Bitrix24 ${what} failed: ${why}`);
}

/**
 * Asks the CRM about a number the registry has never seen: one `batch` of
 * `crm.duplicate.findbycomm` (per type), then — when something matched — one `batch` of
 * `crm.<type>.list` with `filter {'@ID': [...]}` for the consent field. At most 2 requests.
 * What is found is stored, so the next check of the number costs nothing.
 */
async function liveLookup(deps: ConsentDeps, portalId: string, phone: string): Promise<void> {
  const field = await consentFieldOf(deps, portalId);
  const entities = deps.entities ?? DEFAULT_ENTITIES;
  const find: Record<string, BatchCommand> = {};
  for (const e of entities) {
    find[e] = {
      method: 'crm.duplicate.findbycomm',
      params: { type: 'PHONE', values: searchForms(phone), entity_type: B24_TYPE[e] },
    };
  }
  const found = await deps.api.batch(portalId, find);
  const lists: Record<string, BatchCommand> = {};
  for (const e of entities) {
    const a = found[e];
    if (!a?.ok) throw failed('crm.duplicate.findbycomm', a);
    const matched = ids(a, B24_TYPE[e]);
    if (matched.length === 0) continue;
    lists[e] = {
      method: `${methodPrefix(e)}.list`,
      params: {
        order: { ID: 'ASC' },
        filter: { '@ID': matched },
        select: ['ID', 'PHONE', field, 'DATE_MODIFY'],
        start: -1,
      },
    };
  }
  const now = deps.clock.now();
  if (Object.keys(lists).length === 0) {
    await recordConsentMiss(deps.conn, portalId, phone, now);
    return;
  }
  const answers = await deps.api.batch(portalId, lists);
  const records: ConsentRecordInput[] = [];
  for (const e of Object.keys(lists) as ConsentEntityType[]) {
    const a = answers[e];
    if (!a?.ok) throw failed(`${methodPrefix(e)}.list`, a);
    for (const item of pageItems(a.result)) records.push(toConsentRecord(e, item, field));
  }
  await saveConsentRecords(deps.conn, portalId, records, now);
  // The duplicate index matched digits we asked for, but none of the phones is ours.
  if (!records.some((r) => r.phones.includes(phone))) {
    await recordConsentMiss(deps.conn, portalId, phone, now);
  }
}

/**
 * What local data says about a normalized number, without asking the CRM: the opt-out list
 * (global or this portal's) first, then the registry (an explicit "no" on any record wins),
 * then the numbers a live lookup found nowhere. Undefined when the registry has never seen it;
 * `optedOut` tells the opt-out list's refusal from the CRM's.
 */
export async function registryConsent(
  deps: Pick<ConsentDeps, 'conn' | 'field' | 'fieldFor' | 'entities'>,
  portalId: string,
  phone: string,
): Promise<{ decision: ConsentDecision; optedOut: boolean } | undefined> {
  const optout = await findOptout(deps.conn, phone, portalId);
  if (optout) {
    const why = optout.reason ? ` (${optout.reason})` : '';
    return {
      decision: { allowed: false, reason: `opted out on ${minskDate(optout.created_at)}${why}` },
      optedOut: true,
    };
  }
  const rows = await consentRowsForPhone(deps.conn, portalId, phone);
  if (rows.length > 0)
    return {
      decision: decideFromRows(rows, await consentFieldOf(deps, portalId)),
      optedOut: false,
    };
  if (await getConsentMiss(deps.conn, portalId, phone)) {
    const reason = nobodyHasIt(deps.entities ?? DEFAULT_ENTITIES);
    return { decision: { allowed: false, reason }, optedOut: false };
  }
  return undefined;
}

/**
 * May this portal send a marketing SMS to `phone`? In order:
 * 1. the opt-out list (global or this portal's) — always wins, whatever the CRM says;
 * 2. the consent registry (kept by syncConsent): an explicit "no" on any record wins;
 * 3. a number the registry has never seen: a live CRM lookup (≤ 2 REST requests), stored.
 *
 * Never throws for a CRM failure: it answers "not allowed" with `retryable: true`, so a
 * marketing message is never sent unchecked.
 */
export async function checkMarketingConsent(
  deps: ConsentDeps,
  portalId: string,
  phone: string,
  /**
   * `live: false` (at intake): answer from local data only — a number the registry has
   * never seen is allowed for now and checked live right before sending.
   */
  opts: { live?: boolean } = {},
): Promise<ConsentDecision> {
  const n = normalizePhone(phone);
  if (!n.ok) return { allowed: false, reason: `${n.reason} — ${n.message}` };
  const local = await registryConsent(deps, portalId, n.phone);
  if (local) return local.decision;
  if (opts.live === false) return { allowed: true };
  try {
    await liveLookup(deps, portalId, n.phone);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    (deps.logger ?? silentLogger).warn(
      { portalId, err: message },
      'consent: live CRM lookup failed; refusing the marketing message',
    );
    return {
      allowed: false,
      reason: `no marketing consent: the CRM could not be checked (${message})`,
      retryable: true,
    };
  }
  const rows = await consentRowsForPhone(deps.conn, portalId, n.phone);
  if (rows.length > 0) return decideFromRows(rows, await consentFieldOf(deps, portalId));
  return { allowed: false, reason: nobodyHasIt(deps.entities ?? DEFAULT_ENTITIES) };
}

/**
 * The check right before a marketing message goes out (live: a number never seen is looked
 * up). A message without a portal or a number has no CRM to record consent: refused.
 */
export function checkBeforeSending(
  deps: ConsentDeps,
  m: { portal_id: string | null; phone: string | null },
): Promise<ConsentDecision> {
  if (!m.portal_id || !m.phone)
    return Promise.resolve({
      allowed: false,
      reason: 'no marketing consent: a marketing SMS needs a portal whose CRM records consent',
    });
  return checkMarketingConsent(deps, m.portal_id, m.phone);
}
