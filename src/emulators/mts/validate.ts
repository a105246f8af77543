import { z } from 'zod';
import { EMU_CODES, type MtsRefusal, refusal } from './codes.js';
import { fitsFiveParts, isGsm7, smsTextInfo } from './smsText.js';

/** A send that passed every check, in the emulator's field names. */
export interface ValidSend {
  /** Digits without `+`. */
  phone: string;
  extraId?: string;
  text: string;
  alphaName: string;
  ttl: number;
  callbackUrl?: string;
  tag?: string;
  /** `start_time` as sent, and as epoch ms. */
  startTime?: string;
  startAt?: number;
  parts: number;
}

/** Shape only; the limits with their own error codes are checked after, in SPEC order. */
const simpleSendSchema = z.object({
  phone_number: z.union([z.number(), z.string()]),
  extra_id: z.string().max(64).optional(),
  callback_url: z
    .string()
    .max(256)
    .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
    .optional(),
  tag: z.string().max(64).optional(),
  start_time: z
    .string()
    .regex(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/,
      'must be YYYY-MM-DD hh:mm:ss±hh:mm',
    )
    .optional(),
  channels: z.array(z.string()).refine((c) => c.includes('sms'), 'must include "sms"'),
  channel_options: z.object({
    sms: z.object({
      text: z.string().min(1),
      alpha_name: z.string().min(1),
      ttl: z.number().int(),
    }),
  }),
});

function firstIssue(error: z.ZodError): string {
  const i = error.issues[0];
  return i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid body';
}

/** Validates a `json2/simple` body the way MTS would; a refusal carries the MTS answer. */
export function validateSimpleSend(
  body: unknown,
  alphaNames: readonly string[],
): ValidSend | MtsRefusal {
  const parsed = simpleSendSchema.safeParse(body);
  if (!parsed.success) {
    // A bad phone gets its own code even when other fields are fine or missing.
    const phoneIssue = parsed.error.issues.some((i) => i.path[0] === 'phone_number');
    if (phoneIssue) return refusal(400, EMU_CODES.phoneIncorrect, 'Phone number incorrect');
    return refusal(400, EMU_CODES.invalidRequest, `Invalid request: ${firstIssue(parsed.error)}`);
  }
  const b = parsed.data;
  const phone = String(b.phone_number).trim();
  if (!/^375\d{9}$/.test(phone))
    return refusal(400, EMU_CODES.phoneIncorrect, 'Phone number incorrect');

  const { text, alpha_name: alphaName, ttl } = b.channel_options.sms;
  if (alphaName.length > 11 || !isGsm7(alphaName)) {
    return refusal(
      400,
      EMU_CODES.invalidRequest,
      `Invalid alpha_name ${JSON.stringify(alphaName)}: at most 11 GSM-7 characters`,
    );
  }
  if (!alphaNames.includes(alphaName)) {
    return refusal(
      400,
      EMU_CODES.unknownAlphaName,
      `Unknown alpha_name ${JSON.stringify(alphaName)}: not registered for this client`,
    );
  }
  if (ttl < 300 || ttl > 259_200) {
    return refusal(400, EMU_CODES.ttlOutOfRange, `ttl ${ttl} out of range 300..259200`);
  }
  const info = smsTextInfo(text);
  if (!fitsFiveParts(info)) {
    return refusal(
      400,
      EMU_CODES.textTooLong,
      `Text too long: ${info.length} ${info.encoding} characters, more than 5 parts`,
    );
  }
  let startAt: number | undefined;
  if (b.start_time !== undefined) {
    startAt = Date.parse(b.start_time.replace(' ', 'T'));
    if (Number.isNaN(startAt)) {
      return refusal(
        400,
        EMU_CODES.invalidRequest,
        `Invalid request: start_time ${JSON.stringify(b.start_time)} is not a date`,
      );
    }
  }
  return {
    phone,
    extraId: b.extra_id,
    text,
    alphaName,
    ttl,
    callbackUrl: b.callback_url,
    tag: b.tag,
    startTime: b.start_time,
    startAt,
    parts: info.parts,
  };
}

const batchSchema = z.object({
  messages: z.array(z.looseObject({})).min(1),
  channels: z.unknown(),
  channel_options: z.looseObject({ sms: z.looseObject({}) }),
  callback_url: z.unknown().optional(),
  tag: z.unknown().optional(),
  start_time: z.unknown().optional(),
});

/**
 * Splits a `json2/batch/sync` body into one simple-send body per message, so each is judged
 * by exactly the rules of a single send. A malformed envelope is a refusal of the whole batch.
 */
export function splitBatch(body: unknown): Record<string, unknown>[] | MtsRefusal {
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) {
    return refusal(400, EMU_CODES.invalidRequest, `Invalid request: ${firstIssue(parsed.error)}`);
  }
  const { messages, channels, channel_options, callback_url, tag, start_time } = parsed.data;
  return messages.map((m) => ({
    phone_number: m.phone_number,
    extra_id: m.extra_id,
    callback_url,
    tag,
    start_time,
    channels,
    channel_options: { sms: { ...channel_options.sms, text: m.text } },
  }));
}

export function isRefusal(v: unknown): v is MtsRefusal {
  return typeof v === 'object' && v !== null && 'httpStatus' in v && 'body' in v;
}
