import { describeMtsCode, mtsCode } from './mtsCodes.js';

/** Our normalized MTS delivery states (SPEC §2). */
export type MtsState = 'ACCEPTD' | 'DELIVRD' | 'EXPIRED' | 'UNDELIV' | 'REJECTD' | 'UNKNOWN';

/** `STATUS` values of `messageservice.message.status.update`. */
export type B24Status = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

/** All states, in a stable order (for metrics labels and validation). */
export const MTS_STATES: readonly MtsState[] = [
  'ACCEPTD',
  'DELIVRD',
  'EXPIRED',
  'UNDELIV',
  'REJECTD',
  'UNKNOWN',
];

const FINAL: ReadonlySet<MtsState> = new Set(['DELIVRD', 'EXPIRED', 'UNDELIV', 'REJECTD']);

/**
 * The fields of an MTS report (DLR or status lookup) that decide its state. The MTS client's
 * report type has them under the same names; the domain keeps its own type so that it
 * depends on no client.
 */
export interface ReportFields {
  /** Numeric status (−1 or 1 pending, 2 delivered, 3 not delivered) or a textual state. */
  status: number | string;
  substatus?: number;
  /**
   * MTS's detailed code (e.g. 23011 delivered, 35015 expired, 36031 undeliverable): the
   * 2022 name `msg_status`, or `hyber_status` in older MTS/Hyber documents (read alike).
   */
  msgStatus?: number;
  /** `accepted` of a batch/job answer: false means MTS refused the message. */
  accepted?: boolean;
  /** Channel MTS used; `hyber` means the platform itself stopped the message. */
  sentVia?: string;
  totalParts?: number;
  deliveredParts?: number;
}

/** `msg_status` of "validity period (ttl) ran out". */
export const MSG_STATUS_EXPIRED = 35015;

/**
 * `msg_status` codes of a message the MTS platform refused before any operator saw it
 * (SPEC §2): rejected, alpha name not allowed, black/white list, quota, spam, bad number.
 */
const REJECTED_CODES: ReadonlySet<number> = new Set([36051, 36055, 36056, 36057, 36058, 36024]);

// Textual statuses: the six SMPP-style names, plus long spellings some gateways use.
const TEXTUAL: Readonly<Record<string, MtsState>> = {
  ACCEPTD: 'ACCEPTD',
  ACCEPTED: 'ACCEPTD',
  DELIVRD: 'DELIVRD',
  DELIVERED: 'DELIVRD',
  EXPIRED: 'EXPIRED',
  UNDELIV: 'UNDELIV',
  UNDELIVERED: 'UNDELIV',
  REJECTD: 'REJECTD',
  REJECTED: 'REJECTD',
  UNKNOWN: 'UNKNOWN',
};

/**
 * Maps an MTS report (DLR or status query) to our state, per the SPEC §2 table:
 * - `accepted: false` → REJECTD (refused at submission);
 * - `status` −1 or 1 → ACCEPTD (no final state yet);
 * - `sent_via: "hyber"` → REJECTD (blocked by the platform);
 * - `status` 2 → DELIVRD, except a multipart message with fewer delivered parts than total
 *   parts (both given) stays ACCEPTD: the rest may still arrive;
 * - `status` 3 → by `msg_status` (see {@link notDeliveredState});
 * - textual statuses (`DELIVRD`…) map directly (numeric strings are read as numbers);
 * - anything else → UNKNOWN (the caller keeps the raw report).
 */
export function stateFromReport(r: ReportFields): MtsState {
  const status = typeof r.status === 'string' ? r.status.trim() : r.status;
  const numeric =
    typeof status === 'number' ? status : /^-?\d+$/.test(status) ? Number(status) : undefined;

  if (r.accepted === false) return 'REJECTD';
  if (numeric === -1 || numeric === 1) return 'ACCEPTD';
  if (r.sentVia?.trim().toLowerCase() === 'hyber') return 'REJECTD';

  let state: MtsState;
  if (numeric === undefined) {
    state = TEXTUAL[String(status).toUpperCase()] ?? 'UNKNOWN';
  } else if (numeric === 2) {
    state = 'DELIVRD';
  } else if (numeric === 3) {
    state = notDeliveredState(r);
  } else {
    state = 'UNKNOWN';
  }
  if (state === 'DELIVRD' && !allPartsDelivered(r)) return 'ACCEPTD';
  return state;
}

/**
 * The state of a `status` 3 report, from its `msg_status`: 35015 → EXPIRED; 36051, 36055–
 * 36058, 36024 → REJECTD; any other 36xxx (36031, the MAP codes 36010/36050/36061/36064/
 * 36090…, 36011, 36020, 36065) → UNDELIV; a code of another family → UNKNOWN (SPEC: keep the
 * raw triple). With no `msg_status` (absent or 0), status 3 alone is MTS's final
 * "not delivered": UNDELIV, or EXPIRED when the substatus is 35 (the expiry family).
 */
function notDeliveredState(r: ReportFields): MtsState {
  const code = r.msgStatus || undefined;
  if (code === undefined) return r.substatus === 35 ? 'EXPIRED' : 'UNDELIV';
  if (code === MSG_STATUS_EXPIRED) return 'EXPIRED';
  if (REJECTED_CODES.has(code)) return 'REJECTD';
  if (code >= 36000 && code < 37000) return 'UNDELIV';
  return 'UNKNOWN';
}

function allPartsDelivered(r: ReportFields): boolean {
  const total = r.totalParts;
  const delivered = r.deliveredParts;
  if (typeof total !== 'number' || typeof delivered !== 'number') return true;
  return delivered >= total;
}

/** True for states MTS will not change any more: DELIVRD, EXPIRED, UNDELIV, REJECTD. */
export function isFinal(state: MtsState): boolean {
  return FINAL.has(state);
}

const FINAL_B24: ReadonlySet<string> = new Set<B24Status>(['delivered', 'undelivered', 'failed']);

/** True for the Bitrix24 statuses that end a message: delivered, undelivered, failed. */
export function isFinalB24Status(status: string | null | undefined): boolean {
  return status != null && FINAL_B24.has(status);
}

/**
 * The Bitrix24 `STATUS` for a state. `queued` (not yet at MTS) and `failed` (refused by us)
 * pass through.
 */
export function toBitrixStatus(state: MtsState | 'queued' | 'failed'): B24Status {
  switch (state) {
    case 'queued':
      return 'queued';
    case 'failed':
    case 'REJECTD':
      return 'failed';
    case 'ACCEPTD':
    case 'UNKNOWN':
      return 'sent';
    case 'DELIVRD':
      return 'delivered';
    case 'EXPIRED':
    case 'UNDELIV':
      return 'undelivered';
  }
}

/** Result of {@link mergeState}. */
export interface MergedState {
  /** The state to keep. */
  state: MtsState;
  /** True when `state` differs from the current one (store it, push it to Bitrix24). */
  changed: boolean;
}

/**
 * Applies an incoming state to the stored one. States are monotonic because reports arrive
 * duplicated and out of order: a final state is never replaced, neither by a non-final one
 * nor by another final one (the first final state wins); ACCEPTD and UNKNOWN give way to
 * anything different. `current` null/undefined means no state yet.
 */
export function mergeState(current: MtsState | null | undefined, incoming: MtsState): MergedState {
  if (current == null) return { state: incoming, changed: true };
  if (isFinal(current) || incoming === current) return { state: current, changed: false };
  return { state: incoming, changed: true };
}

const STATE_TEXTS: Readonly<Record<'en' | 'ru', Readonly<Record<MtsState, string>>>> = {
  en: {
    ACCEPTD: 'accepted by MTS, not delivered yet',
    DELIVRD: 'delivered',
    EXPIRED: 'subscriber unavailable; MTS tried for the whole validity period',
    UNDELIV: 'not delivered: the number is not served, blocked or cannot receive SMS',
    REJECTD: 'blocked by MTS before sending (stop list, sender name or content filter)',
    UNKNOWN: 'MTS reported a status we do not recognize',
  },
  ru: {
    ACCEPTD: 'принято MTS, ещё не доставлено',
    DELIVRD: 'доставлено',
    EXPIRED: 'абонент был недоступен; MTS пытался доставить весь срок жизни сообщения',
    UNDELIV: 'не доставлено: номер не обслуживается, заблокирован или не принимает SMS',
    REJECTD: 'заблокировано MTS до отправки (стоп-лист, имя отправителя или фильтр содержания)',
    UNKNOWN: 'MTS сообщил статус, который нам неизвестен',
  },
};

/**
 * A short text for the CRM about why a message did not arrive (or where it stands), from the
 * state and, when given, the report. A `msg_status` in MTS's table is explained in MTS's own
 * words with the code (e.g. `SMS undelivered, unknown subscriber (MTS 36010)`); otherwise the
 * state's text gets the raw codes appended so support can look them up.
 */
export function describeFailure(
  state: MtsState,
  report?: ReportFields,
  lang: 'en' | 'ru' = 'en',
): string {
  const base = STATE_TEXTS[lang][state];
  if (!report || state === 'DELIVRD' || state === 'ACCEPTD') return base;
  const code = report.msgStatus;
  if (code && mtsCode(code)) return `${describeMtsCode(code, lang)} (MTS ${code})`;
  const codes = [
    `status ${String(report.status)}`,
    report.substatus === undefined ? undefined : `substatus ${report.substatus}`,
    report.msgStatus === undefined ? undefined : `msg_status ${report.msgStatus}`,
    report.sentVia === undefined ? undefined : `sent_via ${report.sentVia}`,
    report.accepted === false ? 'accepted false' : undefined,
  ].filter((c): c is string => c !== undefined);
  return `${base} (MTS ${codes.join(', ')})`;
}
