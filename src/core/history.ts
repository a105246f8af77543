import { minskDayStart } from '../domain/minskTime.js';
import { maskPhone, normalizePhone } from '../domain/phone.js';
import { countSegments } from '../domain/segments.js';
import { describeFailure, type ReportFields, stateFromReport } from '../domain/status.js';
import { InputError } from '../errors.js';
import { parseDeliveryReports, parseStatusAnswer } from '../mts/report.js';
import {
  type Connection,
  eventsFor,
  getMessage,
  type MessageState,
  reportsFor,
  searchMessages,
} from '../store/index.js';

const DAY_MS = 86_400_000;

/** One step of a message's history, oldest first (admin API `GET /api/messages/:id`). */
export interface HistoryStep {
  at: number;
  /**
   * received (the handler's POST or the campaign's feed) · accept · requeue · fail · hold (the
   * sender's moves with MTS's answer) · report (a delivery report, status poll or lookup answer,
   * raw) · push · push-refused (a status sent to Bitrix24)
   */
  kind: string;
  detail: Record<string, unknown>;
}

export interface MessageHistory {
  message: {
    id: string;
    portalId: string | null;
    source: string;
    kind: string;
    phone: string | null;
    alphaName: string;
    text: string;
    parts: number;
    encoding: string;
    state: string;
    failReason: string | null;
    b24MessageId: string | null;
    b24Status: string | null;
    b24PushedStatus: string | null;
    /** A status is still to be sent to Bitrix24. */
    pushPending: boolean;
    mtsMessageId: string | null;
    campaignId: string | null;
    createdAt: number;
    finalAt: number | null;
  };
  steps: HistoryStep[];
}

/** MTS's bodies carry the number (`number`, `phone`, `msisdn`): masked like everywhere else. */
const NUMBER_KEY = /^(number|phone|phone_number|msisdn|to)$/i;
function maskNumbers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskNumbers);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => {
      if (!NUMBER_KEY.test(k) || (typeof x !== 'string' && typeof x !== 'number'))
        return [k, maskNumbers(x)];
      const digits = String(x).replace(/\D/g, '');
      return [k, digits.length >= 7 ? maskPhone(`+${digits}`) : x];
    }),
  );
}

/** A stored report body read back: the state it means and MTS's codes in words. */
function readReport(source: string, body: unknown): Record<string, unknown> {
  let fields: ReportFields | undefined;
  try {
    fields = source === 'dlr' ? parseDeliveryReports(body).reports[0] : parseStatusAnswer(body);
  } catch {
    fields = undefined;
  }
  const raw = maskNumbers(body);
  if (!fields) return { raw };
  const state = stateFromReport(fields);
  return { raw, state, meaning: describeFailure(state, fields) };
}

/** Everything that happened to one message, or undefined when there is no such message. */
export async function messageHistory(
  conn: Connection,
  id: string,
): Promise<MessageHistory | undefined> {
  const m = await getMessage(conn, id);
  if (!m) return undefined;
  const seg = countSegments(m.text);
  const steps: HistoryStep[] = [
    {
      at: Number(m.created_at),
      kind: 'received',
      detail: {
        source: m.source,
        kind: m.kind,
        phoneAsTyped: maskPhone(m.phone_raw),
        ...(m.bindings ? { bindings: JSON.parse(m.bindings) } : {}),
        ...(m.campaign_id ? { campaignId: m.campaign_id } : {}),
        ...(m.request_id ? { requestId: m.request_id } : {}),
      },
    },
    ...(await eventsFor(conn, id)).map((e) => ({ at: e.at, kind: e.kind, detail: e.detail })),
    ...(await reportsFor(conn, id)).map((r) => ({
      at: Number(r.received_at),
      kind: 'report',
      detail: { source: r.source, ...readReport(r.source, JSON.parse(r.body)) },
    })),
  ];
  // Stable: steps written in the same millisecond keep their order within each source.
  steps.sort((a, b) => a.at - b.at);
  return {
    message: {
      id: m.id,
      portalId: m.portal_id,
      source: m.source,
      kind: m.kind,
      phone: m.phone ? maskPhone(m.phone) : null,
      alphaName: m.alpha_name,
      text: m.text,
      parts: m.total_parts ?? seg.parts,
      encoding: seg.encoding,
      state: m.state,
      failReason: m.fail_reason,
      b24MessageId: m.b24_message_id,
      b24Status: m.b24_status,
      b24PushedStatus: m.b24_pushed_status,
      pushPending: m.push_pending === 1,
      mtsMessageId: m.mts_message_id,
      campaignId: m.campaign_id,
      createdAt: Number(m.created_at),
      finalAt: m.final_at === null ? null : Number(m.final_at),
    },
    steps,
  };
}

/** Admin search (`GET /api/messages`): every filter optional; the phone in any format. */
export interface MessageSearch {
  phone?: string | undefined;
  state?: string | undefined;
  /** Minsk dates `YYYY-MM-DD`, both included (the day the message was received). */
  from?: string | undefined;
  to?: string | undefined;
  sender?: string | undefined;
  campaign?: string | undefined;
  /** One portal's messages only (a page opened inside Bitrix24). */
  portalId?: string | undefined;
  /** Only messages to these numbers (a CRM card's tab). */
  phones?: readonly string[] | undefined;
  limit: number;
}

export class SearchInputError extends InputError {}

/** The start of a Minsk day given as `YYYY-MM-DD` (empty: no bound). */
function dayStart(name: 'from' | 'to', v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const start = minskDayStart(v);
  if (start === undefined)
    throw new SearchInputError(`${name}: expected a date YYYY-MM-DD, got "${v}"`);
  return start;
}

export async function findMessages(conn: Connection, q: MessageSearch) {
  let phone: string | undefined;
  if (q.phone !== undefined && q.phone.trim() !== '') {
    const n = normalizePhone(q.phone);
    if (!n.ok) throw new SearchInputError(`phone: ${n.message}`);
    phone = n.phone;
  }
  const from = dayStart('from', q.from);
  const to = dayStart('to', q.to);
  const rows = await searchMessages(conn, {
    ...q,
    phone,
    state: q.state as MessageState | undefined,
    from,
    to: to === undefined ? undefined : to + DAY_MS,
  });
  return rows.map((r) => ({
    ...r,
    phone: r.phone ? maskPhone(r.phone) : null,
    phone_raw: undefined,
  }));
}
