import type { BatchCommand } from '../bitrix24/types.js';
import { describeFailure, type MtsState } from '../domain/status.js';
import type { PendingPush } from '../store/pushes.js';

/** Bitrix24 CRM entity type ids → `crm.timeline.comment.add` ENTITY_TYPE. */
const ENTITY_TYPES: Record<number, string> = { 1: 'lead', 2: 'deal', 3: 'contact', 4: 'company' };

/** What the manager should do next, by outcome. */
function advice(p: PendingPush): string {
  if (p.state === 'failed') {
    if (p.fail_reason?.includes('landline'))
      return 'Add the client’s mobile number (+375 25/29/33/44) to the card and send again.';
    if (p.fail_reason?.includes('not a Belarus number'))
      return 'MTS Belarus delivers only to Belarus mobile numbers; contact the client another way.';
    if (p.fail_reason?.includes('malformed'))
      return 'Correct the phone number in the card and send again.';
    if (p.fail_reason?.includes('consent'))
      return 'The client has not agreed to marketing SMS; do not send marketing to this number.';
    return 'Check the reason above; the message was not sent.';
  }
  if (p.state === 'EXPIRED')
    return 'The phone was off or out of reach for the whole validity period; try again later or call.';
  if (p.state === 'REJECTD')
    return 'The operator blocked the message; check the text and the alpha name with MTS.';
  return 'The subscriber could not receive it; check the number or contact the client another way.';
}

/** The text of the CRM timeline note for a message that ended failed or undelivered. */
export function timelineComment(p: PendingPush): string {
  const why =
    p.state === 'failed'
      ? (p.fail_reason ?? 'refused')
      : describeFailure(p.state as MtsState, {
          status: p.mts_status ?? 3,
          ...(p.mts_substatus != null ? { substatus: p.mts_substatus } : {}),
          ...(p.mts_hyber_status != null ? { msgStatus: p.mts_hyber_status } : {}),
        });
  const title = p.state === 'failed' ? 'SMS was not sent' : 'SMS was not delivered';
  return `${title} (MTS Belarus SMS): ${why}. ${advice(p)}`;
}

/**
 * Batch commands adding the note to each CRM entity the card send was bound to — only for a
 * final failure, only once per message, only for entity types the timeline API takes.
 */
export function timelineCommands(p: PendingPush): Record<string, BatchCommand> {
  if (
    p.timeline_noted ||
    (p.b24_status !== 'failed' && p.b24_status !== 'undelivered') ||
    !p.bindings
  )
    return {};
  let bindings: { OWNER_TYPE_ID?: unknown; OWNER_ID?: unknown }[];
  try {
    bindings = JSON.parse(p.bindings);
  } catch {
    return {};
  }
  const out: Record<string, BatchCommand> = {};
  bindings.forEach((b, i) => {
    const type = ENTITY_TYPES[Number(b.OWNER_TYPE_ID)];
    const id = Number(b.OWNER_ID);
    if (!type || !Number.isInteger(id) || id <= 0) return;
    out[`t${i}_${p.id}`] = {
      method: 'crm.timeline.comment.add',
      params: { fields: { ENTITY_ID: id, ENTITY_TYPE: type, COMMENT: timelineComment(p) } },
    };
  });
  return out;
}
