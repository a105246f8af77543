import type { EmulatedMessage } from './state.js';

/** The DLR body MTS POSTs to `callback_url` (SPEC §2); only for a message in a final state. */
export function dlrBody(msg: EmulatedMessage): Record<string, unknown> {
  const f = msg.final;
  if (!f) throw new Error(`message ${msg.record.messageId} has no final state yet`);
  return {
    number: Number(msg.record.phone),
    time: f.time,
    status: f.status,
    substatus: f.substatus,
    hyber_status: f.hyberStatus,
    message_id: msg.record.messageId,
    extra_id: msg.record.extraId,
    sent_via: f.sentVia,
    total_sms_parts: msg.parts,
    delivered_sms_parts: f.deliveredParts,
  };
}

/** The answer of `GET /dr/…/simple`: status −1 (and zero sub-statuses) until final. */
export function statusAnswerBody(msg: EmulatedMessage): Record<string, unknown> {
  const f = msg.final;
  return {
    phone_number: Number(msg.record.phone),
    message_id: msg.record.messageId,
    extra_id: msg.record.extraId,
    time: f?.time ?? msg.record.receivedAt,
    status: f?.status ?? -1,
    substatus: f?.substatus ?? 0,
    hyber_status: f?.hyberStatus ?? 0,
    total_sms_parts: msg.parts,
    delivered_sms_parts: f?.deliveredParts ?? 0,
  };
}
