import type { DlrOutcome } from './options.js';

/** The final state of a message as MTS reports it (the numeric triple plus channel). */
export interface FinalState {
  time: number;
  status: number;
  substatus: number;
  hyberStatus: number;
  sentVia: string;
  deliveredParts: number;
}

/**
 * The triples MTS sends per outcome. Delivered (2/23/23011) and expired (3/35/35015) are the
 * documented GMS/Hyber examples; undelivered and rejected are the emulator's picks that keep
 * the documented meaning: status 3 = not delivered, `sent_via: "hyber"` = blocked by the
 * platform before any operator saw it.
 */
const TRIPLES: Record<
  Exclude<DlrOutcome, 'pending'>,
  Omit<FinalState, 'time' | 'deliveredParts'>
> = {
  delivered: { status: 2, substatus: 23, hyberStatus: 23011, sentVia: 'sms' },
  undelivered: { status: 3, substatus: 34, hyberStatus: 34001, sentVia: 'sms' },
  expired: { status: 3, substatus: 35, hyberStatus: 35015, sentVia: 'sms' },
  rejected: { status: 3, substatus: 36, hyberStatus: 36011, sentVia: 'hyber' },
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
