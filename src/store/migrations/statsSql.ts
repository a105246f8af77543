import type { DialectCaps } from '../dialects/types.js';

/**
 * SQL pieces of the delivery-figure triggers (migrations 0010 and 0012), shared so that both
 * compute a message's key the same way. Frozen like the migrations that use them: a change
 * here is a new migration's job.
 */

/** Europe/Minsk is UTC+3 all year (domain/minskTime.ts). */
export const MINSK_OFFSET_MS = 3 * 3_600_000;

/**
 * The message type of SPEC §6 (`card`, `robot`, `marketing`, `campaign`, `test`) from how
 * intake stored the message: a campaign's messages carry its id; handler POSTs keep
 * Bitrix24's module_id as `source` (crm = a CRM card, bizproc = a workflow's SMS, sender = CRM
 * marketing), our robot's are `robot`, the CLI's `send` is `cli` and the admin page's test SMS
 * `test`. Anything else goes by kind.
 */
export function typeOf(r: string): string {
  return `case when ${r}.campaign_id is not null then 'campaign'
    when ${r}.source = 'crm' then 'card'
    when ${r}.source in ('bizproc', 'robot') then 'robot'
    when ${r}.source = 'sender' then 'marketing'
    when ${r}.source in ('cli', 'test') then 'test'
    when ${r}.kind = 'marketing' then 'marketing'
    else 'card' end`;
}

/** 1 when the condition holds, else 0 (SQLite compares to 0/1 already). */
export function flag(caps: DialectCaps, cond: string): string {
  return caps.name === 'postgres' ? `(${cond})::int` : `(${cond})`;
}

/** The key of row `r` (NEW, OLD or a table alias) as a SELECT list. */
export function keyOf(r: string): string {
  return `(${r}.created_at + ${MINSK_OFFSET_MS}) / 86400000, coalesce(${r}.portal_id, ''),
    ${r}.alpha_name, ${typeOf(r)}, coalesce(${r}.campaign_id, '')`;
}

/** The counters of row `r`, each 0 or 1 (total is 1). */
export function countersOf(caps: DialectCaps, r: string): string[] {
  return [
    '1',
    flag(caps, `${r}.accepted_at is not null`),
    flag(caps, `${r}.b24_status = 'delivered'`),
    flag(caps, `${r}.b24_status = 'undelivered'`),
    flag(caps, `${r}.b24_status = 'failed'`),
  ];
}

export const KEY_COLUMNS = 'day, portal_id, alpha_name, type, campaign_id';
export const COUNTERS = 'total, submitted, delivered, undelivered, failed';
