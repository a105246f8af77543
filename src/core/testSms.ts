import { normalizePhone } from '../domain/phone.js';
import { checkText } from '../domain/segments.js';
import { InputError } from '../errors.js';
import type { Connection, Message } from '../store/index.js';
import { intakeSms } from './intake.js';
import type { SenderFor } from './senderChoice.js';

/** What a person typed into the test-SMS form that cannot be sent, in words. */
export class TestSmsInputError extends InputError {}

/**
 * One transactional SMS from the admin app's test form (source `test`): checked first, so a
 * bad number or text is an answer to the person, not a stored failure; then committed like any
 * other and sent by the sender (the caller wakes it). With a portal, it goes as that portal's
 * transactional SMS (its Sender ID, its contract) and counts in its figures; without one, with
 * the configured Sender ID and the default contract. Either way its status goes nowhere but
 * the history (Bitrix24 did not send it).
 */
export async function queueTestSms(
  deps: { conn: Connection; senderFor: SenderFor },
  req: { to: unknown; text: unknown; portalId?: string | null; requestId?: string },
  now: number,
): Promise<Message> {
  if (typeof req.to !== 'string' || typeof req.text !== 'string')
    throw new TestSmsInputError('Give `to` (a phone number) and `text`.');
  const phone = normalizePhone(req.to);
  if (!phone.ok) throw new TestSmsInputError(phone.message);
  const choice = await deps.senderFor(req.portalId ?? null, 'transactional');
  const text = checkText(req.text, choice.maxParts);
  if (!text.ok) throw new TestSmsInputError(text.reason);
  const { message } = await intakeSms(
    deps.conn,
    {
      portalId: req.portalId ?? null,
      b24MessageId: null,
      source: 'test',
      kind: 'transactional',
      to: req.to,
      text: req.text,
      alphaName: choice.alphaName,
      route: choice.route,
      maxParts: choice.maxParts,
      ...(req.requestId ? { requestId: req.requestId } : {}),
    },
    now,
  );
  return message;
}
