import { z } from 'zod';
import { type MtsRefusal, mtsRefusal } from './codes.js';
import { fitsMtsLimit, isGsm7, smsTextInfo } from './smsText.js';

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

/** What a send is judged against besides its own fields. */
export interface SendRules {
  /** Alpha names registered for the client; undefined allows any. */
  alphaNames: readonly string[] | undefined;
  /** Alpha names refused although registered; `*` holds all. */
  heldAlphaNames: readonly string[];
  /** Epoch ms, for start_time. */
  now: number;
}

/** How far in the past a start_time may be (it has one-second precision; clocks drift). */
const START_TIME_SKEW_MS = 5000;
/** MTS takes a start_time at most one day ahead. */
const START_TIME_MAX_AHEAD_MS = 24 * 60 * 60 * 1000;

/** Types only; limits with codes of their own are checked after, in SPEC order. */
const simpleSendSchema = z.object({
  phone_number: z.union([z.number(), z.string()]),
  extra_id: z.string().optional(),
  callback_url: z.string().optional(),
  tag: z.string().optional(),
  start_time: z.string().optional(),
  channels: z.array(z.string()),
  channel_options: z.object({
    sms: z.object({ text: z.string(), alpha_name: z.string(), ttl: z.number().int() }),
  }),
});

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** The MTS code for the first type problem of a body: missing field, wrong type, bad phone. */
function shapeRefusal(body: unknown, error: z.ZodError): MtsRefusal {
  const issue = error.issues[0];
  if (!issue) return mtsRefusal('incorrectDataFormat');
  const field = issue.path.join('.') || 'body';
  const missing = issue.path.length > 0 && valueAt(body, issue.path) === undefined;
  // A bad phone gets its own code even when other fields are fine or missing.
  if (error.issues.some((i) => i.path[0] === 'phone_number')) return mtsRefusal('phoneIncorrect');
  if (field === 'channel_options.sms.text' && missing) return mtsRefusal('textMissing');
  if (field === 'channels' && missing) return mtsRefusal('channelsMissing');
  if (missing) return mtsRefusal('mandatoryFieldMissing', field);
  if (issue.code === 'invalid_type') return mtsRefusal('incorrectDataType', field);
  return mtsRefusal('incorrectDataFormat', `${field}: ${issue.message}`);
}

function alphaNameRefusal(alphaName: string, rules: SendRules): MtsRefusal | undefined {
  const name = JSON.stringify(alphaName);
  if (alphaName.length === 0 || alphaName.length > 11 || !isGsm7(alphaName))
    return mtsRefusal('alphaNameNotPermitted', `${name} is not 1–11 GSM-7 characters`);
  if (rules.alphaNames && !rules.alphaNames.includes(alphaName))
    return mtsRefusal('alphaNameNotPermitted', `${name} is not registered for this client`);
  if (rules.heldAlphaNames.includes('*') || rules.heldAlphaNames.includes(alphaName))
    return mtsRefusal('alphaNameNotPermitted', `${name} is held`);
  return undefined;
}

function startTimeRefusal(
  startTime: string,
  now: number,
): { refusal: MtsRefusal } | { startAt: number } {
  const at = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.test(startTime)
    ? Date.parse(startTime.replace(' ', 'T'))
    : Number.NaN;
  if (Number.isNaN(at)) {
    return {
      refusal: mtsRefusal('incorrectDataFormat', 'start_time: must be YYYY-MM-DD hh:mm:ss±hh:mm'),
    };
  }
  if (at < now - START_TIME_SKEW_MS) return { refusal: mtsRefusal('startTimeInPast') };
  if (at > now + START_TIME_MAX_AHEAD_MS) return { refusal: mtsRefusal('startTimeTooFar') };
  return { startAt: at };
}

/**
 * Validates a `json2/simple` body the way MTS would, with MTS's own codes: 10243 phone,
 * 10247/10248 channels, 10246 extra_id, 10218 callback_url/tag/start_time format, 10261 no
 * text, 10262 alpha name (malformed, not registered, held), 10259 ttl, 10260 over 15 parts,
 * 10244/10245 start_time; 10217 a missing field, 10219 a field of the wrong type.
 */
export function validateSimpleSend(body: unknown, rules: SendRules): ValidSend | MtsRefusal {
  const parsed = simpleSendSchema.safeParse(body);
  if (!parsed.success) return shapeRefusal(body, parsed.error);
  const b = parsed.data;
  const phone = String(b.phone_number).trim();
  if (!/^375\d{9}$/.test(phone)) return mtsRefusal('phoneIncorrect');
  if (b.channels.length === 0) return mtsRefusal('channelsMissing');
  // The emulated contract has the SMS channel only.
  const other = b.channels.find((c) => c !== 'sms');
  if (other !== undefined) return mtsRefusal('channelNotPermitted', JSON.stringify(other));
  if (b.extra_id !== undefined && b.extra_id.length > 64) return mtsRefusal('extraIdTooLong');
  if (
    b.callback_url !== undefined &&
    (b.callback_url.length > 256 || !/^https?:\/\/\S+$/.test(b.callback_url))
  ) {
    return mtsRefusal(
      'incorrectDataFormat',
      'callback_url: an http(s) URL of at most 256 characters',
    );
  }
  if (b.tag !== undefined && b.tag.length > 64)
    return mtsRefusal('incorrectDataFormat', 'tag: at most 64 characters');

  const { text, alpha_name: alphaName, ttl } = b.channel_options.sms;
  if (text.trim() === '') return mtsRefusal('textMissing');
  const alpha = alphaNameRefusal(alphaName, rules);
  if (alpha) return alpha;
  if (ttl < 300 || ttl > 259_200)
    return mtsRefusal('incorrectChannelTtl', `ttl ${ttl} out of range 300..259200`);
  const info = smsTextInfo(text);
  if (!fitsMtsLimit(info)) {
    return mtsRefusal(
      'textTooLong',
      `${info.length} ${info.encoding} characters, ${info.parts} parts; at most 15`,
    );
  }
  let startAt: number | undefined;
  if (b.start_time !== undefined) {
    const st = startTimeRefusal(b.start_time, rules.now);
    if ('refusal' in st) return st.refusal;
    startAt = st.startAt;
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
  if (!parsed.success) return shapeRefusal(body, parsed.error);
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
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'body' in v;
}
