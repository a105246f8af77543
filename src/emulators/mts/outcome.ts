import type { DlrOutcome } from './options.js';

/** The final state of a message as MTS reports it (the numeric triple plus channel). */
export interface FinalState {
  time: number;
  status: number;
  substatus: number;
  /** `msg_status` (or `hyber_status`): MTS's detailed code. */
  msgStatus: number;
  sentVia: string;
  deliveredParts: number;
}

/**
 * The triples MTS sends per outcome, from MTS's status table: delivered 2/23/23011,
 * undelivered 3/36/36031 ("SMS is undeliverable"), expired 3/35/35015 (TTL), rejected
 * 3/36/36056 (black/white list) with `sent_via: "hyber"`: the platform stopped it before any
 * operator saw it.
 */
const TRIPLES: Record<
  Exclude<DlrOutcome, 'pending'>,
  Omit<FinalState, 'time' | 'deliveredParts'>
> = {
  delivered: { status: 2, substatus: 23, msgStatus: 23011, sentVia: 'sms' },
  undelivered: { status: 3, substatus: 36, msgStatus: 36031, sentVia: 'sms' },
  expired: { status: 3, substatus: 35, msgStatus: 35015, sentVia: 'sms' },
  rejected: { status: 3, substatus: 36, msgStatus: 36056, sentVia: 'hyber' },
};

/** The final state for an outcome reached at `time`; undefined for `pending` (never final). */
export function finalStateFor(
  outcome: DlrOutcome,
  parts: number,
  time: number,
): FinalState | undefined {
  if (outcome === 'pending') return undefined;
  return { ...TRIPLES[outcome], time, deliveredParts: outcome === 'delivered' ? parts : 0 };
}
