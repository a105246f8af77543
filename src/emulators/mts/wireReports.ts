import type { EmulatedMessage } from './state.js';

/** Name of the detailed code on the wire: `msg_status` (2022) or `hyber_status` (older). */
export type StatusField = 'msg_status' | 'hyber_status';

/** The DLR body MTS POSTs to `callback_url` (SPEC §2); only for a message in a final state. */
export function dlrBody(msg: EmulatedMessage, field: StatusField): Record<string, unknown> {
  const f = msg.final;
  if (!f) throw new Error(`message ${msg.record.messageId} has no final state yet`);
  return {
    number: Number(msg.record.phone),
    time: f.time,
    status: f.status,
    substatus: f.substatus,
    [field]: f.msgStatus,
    message_id: msg.record.messageId,
    extra_id: msg.record.extraId,
    sent_via: f.sentVia,
    total_sms_parts: msg.parts,
    delivered_sms_parts: f.deliveredParts,
  };
}

/**
 * The answer of `GET /dr/…/simple` (SPEC §2): status −1 (and zero sub-statuses) until final.
 * `last_partner` is the channel the message last went through.
 */
export function statusAnswerBody(
  msg: EmulatedMessage,
  field: StatusField,
): Record<string, unknown> {
  const f = msg.final;
  return {
    phone_number: Number(msg.record.phone),
    last_partner: f?.sentVia ?? 'sms',
    message_id: msg.record.messageId,
    extra_id: msg.record.extraId,
    time: f?.time ?? msg.record.receivedAt,
    status: f?.status ?? -1,
    substatus: f?.substatus ?? 0,
    [field]: f?.msgStatus ?? 0,
    total_sms_parts: msg.parts,
    delivered_sms_parts: f?.deliveredParts ?? 0,
  };
}
