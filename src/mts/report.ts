import { z } from 'zod';
import { MtsError } from './errors.js';
import type { MtsReport } from './types.js';

/** Textual statuses MTS may send instead of the numeric triple (SPEC §2). */
export const MTS_TEXT_STATUSES = [
  'DELIVRD',
  'EXPIRED',
  'UNDELIV',
  'REJECTD',
  'ACCEPTD',
  'UNKNOWN',
] as const;

type Ctx = z.core.$RefinementCtx;

function fail(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

/** Integers arrive as numbers or numeric strings depending on the MTS endpoint. */
function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

const optionalInt = z
  .unknown()
  .transform((v, ctx) => {
    if (v === undefined || v === null) return undefined;
    return toInt(v) ?? fail(ctx, `expected an integer, got ${JSON.stringify(v)}`);
  })
  .optional();

const status = z.unknown().transform((v, ctx): number | string => {
  const n = toInt(v);
  if (n !== undefined) return n;
  if (typeof v === 'string') {
    const s = v.trim().toUpperCase();
    if ((MTS_TEXT_STATUSES as readonly string[]).includes(s)) return s;
  }
  return fail(
    ctx,
    `expected a numeric status or one of ${MTS_TEXT_STATUSES.join(', ')}, got ${JSON.stringify(v)}`,
  );
});

const messageId = z.unknown().transform((v, ctx) => {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  return fail(ctx, `expected a non-empty message id, got ${JSON.stringify(v)}`);
});

const optionalId = z
  .unknown()
  .transform((v, ctx) => {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    return fail(ctx, `expected a string id, got ${JSON.stringify(v)}`);
  })
  .optional();

/** Phone as digits without `+`; MTS sends a number in some answers and a string in others. */
const optionalPhone = z
  .unknown()
  .transform((v, ctx) => {
    if (v === undefined || v === null) return undefined;
    const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
    if (typeof s === 'string' && /^\+?\d{5,15}$/.test(s.trim())) return s.trim().replace(/^\+/, '');
    return fail(ctx, `expected a phone number of digits, got ${JSON.stringify(v)}`);
  })
  .optional();

/** Epoch milliseconds; a numeric string or a parseable date string is accepted too. */
const optionalTime = z
  .unknown()
  .transform((v, ctx) => {
    if (v === undefined || v === null) return undefined;
    const n = toInt(v);
    if (n !== undefined) return n;
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
    return fail(ctx, `expected epoch milliseconds, got ${JSON.stringify(v)}`);
  })
  .optional();

/** `accepted` of batch/job answers: a boolean, or its spelling as a string. */
const optionalBool = z
  .unknown()
  .transform((v, ctx) => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return fail(ctx, `expected true or false, got ${JSON.stringify(v)}`);
  })
  .optional();

const optionalString = z
  .unknown()
  .transform((v, ctx) => {
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : fail(ctx, `expected a string, got ${JSON.stringify(v)}`);
  })
  .optional();

/** Fields shared by DLR bodies and status answers; only the phone's key differs. */
const common = {
  message_id: messageId,
  extra_id: optionalId,
  time: optionalTime,
  status,
  substatus: optionalInt,
  // The 2022 document calls the detailed code `msg_status`; the 2020 one and Hyber's docs
  // `hyber_status`. Both are read; `msg_status` wins should a body carry both.
  msg_status: optionalInt,
  hyber_status: optionalInt,
  accepted: optionalBool,
  sent_via: optionalString,
  total_sms_parts: optionalInt,
  delivered_sms_parts: optionalInt,
};

type ParsedReport = Omit<MtsReport, 'raw'>;

function toReport(
  o: z.output<z.ZodObject<typeof common>>,
  phone: string | undefined,
): ParsedReport {
  return {
    messageId: o.message_id,
    extraId: o.extra_id,
    phone,
    time: o.time,
    status: o.status,
    substatus: o.substatus,
    msgStatus: o.msg_status ?? o.hyber_status,
    ...(o.accepted !== undefined ? { accepted: o.accepted } : {}),
    sentVia: o.sent_via,
    totalParts: o.total_sms_parts,
    deliveredParts: o.delivered_sms_parts,
  };
}

/** A DLR names the phone `number`. */
const dlrSchema = z
  .looseObject({ number: optionalPhone, ...common })
  .transform((o) => toReport(o, o.number));
/** A status answer names it `phone_number`. */
const statusAnswerSchema = z
  .looseObject({ phone_number: optionalPhone, ...common })
  .transform((o) => toReport(o, o.phone_number));

function describeIssues(where: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${where}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`)
    .join('; ');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseOne(
  schema: z.ZodType<ParsedReport>,
  item: unknown,
  where: string,
): { report: MtsReport } | { error: string } {
  if (!isPlainObject(item))
    return { error: `${where}: expected a JSON object, got ${typeName(item)}` };
  const r = schema.safeParse(item);
  if (!r.success) return { error: describeIssues(where, r.error) };
  // `raw` is the element as received, not the transformed copy.
  return { report: { ...r.data, raw: item } };
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * Parses a DLR callback body: one report object or an array of them. Invalid elements give
 * a readable error each (`report[2].status: …`); the valid ones are still returned, so one
 * bad element never loses the others.
 */
export function parseDeliveryReports(body: unknown): { reports: MtsReport[]; errors: string[] } {
  const reports: MtsReport[] = [];
  const errors: string[] = [];
  const items = Array.isArray(body) ? body : [body];
  if (!Array.isArray(body) && !isPlainObject(body)) {
    return {
      reports,
      errors: [`expected a JSON object or an array of objects, got ${typeName(body)}`],
    };
  }
  items.forEach((item, i) => {
    const r = parseOne(dlrSchema, item, Array.isArray(body) ? `report[${i}]` : 'report');
    if ('report' in r) reports.push(r.report);
    else errors.push(r.error);
  });
  return { reports, errors };
}

/**
 * Parses the answer of `GET /{client_id}/dr/…/simple`. Should MTS ever answer an array
 * (several messages with one extra_id), the last element — the latest — is taken.
 * Throws MtsError (`retry`, not ambiguous: a query changes nothing at MTS) when unusable.
 */
export function parseStatusAnswer(body: unknown): MtsReport {
  const item = Array.isArray(body) ? body[body.length - 1] : body;
  const r = parseOne(statusAnswerSchema, item, 'status answer');
  if ('report' in r) return { ...r.report, raw: body };
  throw new MtsError(`MTS sent a status answer we cannot read (${r.error}): will retry`, {
    action: 'retry',
    code: 'MTS_BAD_RESPONSE',
  });
}
