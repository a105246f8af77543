import { MtsError } from './errors.js';
import type { MtsSendRequest } from './types.js';

/** The JSON body of `POST /{client_id}/json2/simple`, exactly as SPEC §2 shows it. */
export interface MtsSendBody {
  phone_number: number;
  extra_id: string;
  callback_url?: string;
  tag?: string;
  start_time?: string;
  channels: ['sms'];
  channel_options: { sms: { text: string; alpha_name: string; ttl: number } };
}

/** Belarus has been on UTC+3 all year since 2011, so a fixed offset is exact. */
const MINSK_OFFSET_MS = 3 * 60 * 60 * 1000;

/** `YYYY-MM-DD HH:mm:ss+03:00` in Europe/Minsk, the `start_time` format MTS expects. */
export function formatMinskTime(date: Date): string {
  const iso = new Date(date.getTime() + MINSK_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+03:00`;
}

/**
 * `+375291234567` → 375291234567. MTS takes the number as a JSON number; up to 15 digits
 * (E.164) it is exact in a double.
 */
export function phoneToWire(phone: string): number {
  const digits = phone.trim().replace(/^\+/, '');
  if (!/^\d{7,15}$/.test(digits)) {
    throw new MtsError(
      `Phone ${JSON.stringify(phone)} is not an international number: normalize it to +375XXXXXXXXX before sending`,
      {
        action: 'permanent',
        code: 'MTS_INVALID_PHONE',
      },
    );
  }
  return Number(digits);
}

/** Builds the send body; optional fields are left out rather than sent empty. */
export function toSendBody(req: MtsSendRequest): MtsSendBody {
  // Key order follows the SPEC example, which makes wire captures easy to compare.
  return {
    phone_number: phoneToWire(req.phone),
    extra_id: req.extraId,
    ...(req.callbackUrl !== undefined ? { callback_url: req.callbackUrl } : {}),
    ...(req.tag !== undefined ? { tag: req.tag } : {}),
    ...(req.startTime !== undefined ? { start_time: formatMinskTime(req.startTime) } : {}),
    channels: ['sms'],
    channel_options: { sms: { text: req.text, alpha_name: req.alphaName, ttl: req.ttl } },
  };
}
