import type { MtsReport } from '../mts/types.js';

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

/** `hyber_status` MTS uses for "validity period (ttl) ran out". */
export const HYBER_EXPIRED = 35015;

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
 * - `status` −1 → ACCEPTD (no final state yet);
 * - `sent_via: "hyber"` → REJECTD (blocked by the platform);
 * - `status` 2 → DELIVRD, except a multipart message with fewer delivered parts than total
 *   parts (both given) stays ACCEPTD: the rest may still arrive;
 * - `status` 3 → EXPIRED when `hyber_status` is 35015, else UNDELIV;
 * - textual statuses (`DELIVRD`…) map directly (numeric strings are read as numbers);
 * - anything else → UNKNOWN (the caller keeps the raw report).
 */
export function stateFromReport(r: MtsReport): MtsState {
  const status = typeof r.status === 'string' ? r.status.trim() : r.status;
  const numeric =
    typeof status === 'number' ? status : /^-?\d+$/.test(status) ? Number(status) : undefined;

  if (numeric === -1) return 'ACCEPTD';
  if (r.sentVia?.trim().toLowerCase() === 'hyber') return 'REJECTD';

  let state: MtsState;
  if (numeric === undefined) {
    state = TEXTUAL[String(status).toUpperCase()] ?? 'UNKNOWN';
  } else if (numeric === 2) {
    state = 'DELIVRD';
  } else if (numeric === 3) {
    state = r.hyberStatus === HYBER_EXPIRED ? 'EXPIRED' : 'UNDELIV';
  } else {
    state = 'UNKNOWN';
  }
  if (state === 'DELIVRD' && !allPartsDelivered(r)) return 'ACCEPTD';
  return state;
}

function allPartsDelivered(r: MtsReport): boolean {
  const total = r.totalParts;
  const delivered = r.deliveredParts;
  if (typeof total !== 'number' || typeof delivered !== 'number') return true;
  return delivered >= total;
}

/** True for states MTS will not change any more: DELIVRD, EXPIRED, UNDELIV, REJECTD. */
export function isFinal(state: MtsState): boolean {
  return FINAL.has(state);
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

/**
 * Human explanations of detailed MTS (Hyber) statuses that are known to us. The public
 * Hyber docs list the codes in a section we have no copy of; extend as MTS support confirms
 * more. Unknown codes fall back to a per-state text with the raw codes appended.
 */
const HYBER_TEXTS: Readonly<Record<number, string>> = {
  [HYBER_EXPIRED]: 'subscriber unavailable; MTS tried for the whole validity period',
  36024: 'the phone number is incorrect',
};

const STATE_TEXTS: Readonly<Record<MtsState, string>> = {
  ACCEPTD: 'accepted by MTS, not delivered yet',
  DELIVRD: 'delivered',
  EXPIRED: 'subscriber unavailable; MTS tried for the whole validity period',
  UNDELIV: 'not delivered: the number is not served, blocked or cannot receive SMS',
  REJECTD: 'blocked by MTS before sending (stop list, sender name or content filter)',
  UNKNOWN: 'MTS reported a status we do not recognize',
};

/**
 * A short text for the CRM about why a message did not arrive (or where it stands), from the
 * state and, when given, the report's `hyber_status`. Codes without a known meaning are
 * appended raw so support can look them up.
 */
export function describeFailure(state: MtsState, report?: MtsReport): string {
  const known = report?.hyberStatus === undefined ? undefined : HYBER_TEXTS[report.hyberStatus];
  if (known && state !== 'DELIVRD' && state !== 'ACCEPTD') return known;
  const base = STATE_TEXTS[state];
  if (!report || state === 'DELIVRD' || state === 'ACCEPTD') return base;
  const codes = [
    `status ${String(report.status)}`,
    report.substatus === undefined ? undefined : `substatus ${report.substatus}`,
    report.hyberStatus === undefined ? undefined : `hyber_status ${report.hyberStatus}`,
    report.sentVia === undefined ? undefined : `sent_via ${report.sentVia}`,
  ].filter((c): c is string => c !== undefined);
  return `${base} (MTS ${codes.join(', ')})`;
}
