import { normalizePhone } from '../domain/phone.js';
import { nextAllowedTime, type QuietWindow } from '../domain/quietHours.js';
import { checkText } from '../domain/segments.js';
import { type Connection, insertMessage, type Message } from '../store/index.js';

export interface SmsRequest {
  portalId: string | null;
  b24MessageId: string | null;
  /** crm | bizproc | sender | robot | cli */
  source: string;
  kind: 'transactional' | 'marketing';
  to: string;
  text: string;
  alphaName: string;
  bindings?: unknown[] | null;
  sendAt?: number;
  /** A refusal decided by the caller (e.g. no marketing consent); stored as failed. */
  refuse?: string;
  /** Marketing quiet hours (Europe/Minsk): a marketing message waits until the window ends. */
  quietHours?: QuietWindow | null;
  /** Which MTS contract sends it, and one rate slot of that contract in ms (fair order). */
  route?: { contractId: string; vtStepMs: number };
  campaignId?: string | null;
  /** The Bitrix24 provider CODE it came through, when not our default one (a chosen Sender ID). */
  providerCode?: string | null;
  /** The X-Request-Id of the HTTP request that brought it (in its log lines too). */
  requestId?: string;
  /** SMS_MAX_PARTS: the longest text accepted, in parts (default 5). */
  maxParts?: number;
}

/** How a portal's message of a kind goes out: alpha name, quiet hours, contract. */
export interface SenderChoice {
  alphaName: string;
  quietHours: QuietWindow | null;
  route: { contractId: string; vtStepMs: number };
  /** SMS_MAX_PARTS. */
  maxParts: number;
}

export interface IntakeResult {
  message: Message;
  /** False when this Bitrix24 message_id was already stored (a repeated POST). */
  created: boolean;
}

/**
 * Validates and commits one SMS. Refused input (bad number, too long) is stored as `failed`
 * with the reason — never dropped — so Bitrix24 is told `failed` and the admin can see why.
 * Returns only after the row is committed: the caller may then acknowledge.
 */
export async function intakeSms(
  conn: Connection,
  req: SmsRequest,
  now: number,
): Promise<IntakeResult> {
  const phone = normalizePhone(req.to);
  const text = checkText(req.text, req.maxParts);
  // The SPEC reason code first (`invalid: landline`), then the explanation for a person.
  const reason =
    req.refuse ??
    (!phone.ok ? `${phone.reason} — ${phone.message}` : !text.ok ? text.reason : undefined);
  let sendAt = req.sendAt;
  if (req.kind === 'marketing' && req.quietHours) {
    const earliest = Math.max(now, sendAt ?? now);
    const allowed = nextAllowedTime(earliest, req.quietHours);
    if (allowed !== earliest || sendAt !== undefined) sendAt = allowed;
  }
  return insertMessage(
    conn,
    {
      portalId: req.portalId,
      b24MessageId: req.b24MessageId,
      source: req.source,
      kind: req.kind,
      phoneRaw: req.to,
      phone: phone.ok ? phone.phone : null,
      text: req.text,
      alphaName: req.alphaName,
      bindings: req.bindings ?? null,
      ...(sendAt !== undefined ? { sendAt } : {}),
      failReason: reason ?? null,
      ...(req.route ? { contractId: req.route.contractId, vtStepMs: req.route.vtStepMs } : {}),
      ...(req.campaignId ? { campaignId: req.campaignId } : {}),
      ...(req.providerCode ? { providerCode: req.providerCode } : {}),
      ...(req.requestId ? { requestId: req.requestId } : {}),
    },
    now,
  );
}
