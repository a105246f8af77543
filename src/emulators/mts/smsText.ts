/**
 * The emulator's own SMS length rules (GSM 03.38 vs UCS-2), kept here so the emulator
 * judges texts independently of the code under test.
 */

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** Extension characters cost two septets (escape + char). */
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

/** Most characters MTS takes in one message: 15 parts (SPEC §2; older documents said 5). */
export const MAX_GSM7_CHARS = 2295;
export const MAX_UCS2_CHARS = 1005;

export interface SmsTextInfo {
  encoding: 'gsm7' | 'ucs2';
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  length: number;
  parts: number;
}

/** Whether every character is in the GSM-7 default alphabet (alpha names must be). */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!basic.has(ch) && !extension.has(ch)) return false;
  return true;
}

/** Encoding, length and part count (160/153 GSM-7, 70/67 UCS-2). */
export function smsTextInfo(text: string): SmsTextInfo {
  if (isGsm7(text)) {
    let length = 0;
    for (const ch of text) length += extension.has(ch) ? 2 : 1;
    return { encoding: 'gsm7', length, parts: length <= 160 ? 1 : Math.ceil(length / 153) };
  }
  const length = text.length;
  return { encoding: 'ucs2', length, parts: length <= 70 ? 1 : Math.ceil(length / 67) };
}

/** Whether MTS would take the text: at most 15 parts (2295 GSM-7 / 1005 UCS-2 characters). */
export function fitsMtsLimit(info: SmsTextInfo): boolean {
  return info.length <= (info.encoding === 'gsm7' ? MAX_GSM7_CHARS : MAX_UCS2_CHARS);
}
