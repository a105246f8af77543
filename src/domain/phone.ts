import {
  type NumberType,
  type PhoneNumber,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
} from 'libphonenumber-js/max';

/** Why a phone number was refused; the text is stored as the message's failure reason. */
export type PhoneRefusal =
  | 'invalid: landline'
  | 'invalid: not a Belarus number'
  | 'invalid: malformed';

/** Result of {@link normalizePhone}. */
export type NormalizedPhone =
  | {
      ok: true;
      /** E.164 Belarus mobile number: `+375` followed by 9 digits. */
      phone: string;
    }
  | {
      ok: false;
      reason: PhoneRefusal;
      /** A sentence naming the input and what to do about it, fit for a CRM user. */
      message: string;
    };

/** What the mobile codes are, for messages only; validity comes from libphonenumber metadata. */
const MOBILE_CODES_HINT = 'mobile numbers (+375 25/29/33/44)';

/**
 * Characters a hand-typed phone number may contain. Anything else (letters, `;`, `,`, `ext`)
 * is refused rather than silently dropped: libphonenumber-js parses leniently and would
 * otherwise read "+375 29 123 45 67 x" or "+375291234567 доб. 12" as a valid number.
 */
const PHONE_CHARS = /^\+?[\d\s().\-\u2010-\u2015]+$/;

const TYPE_NAMES: Partial<Record<NonNullable<NumberType>, string>> = {
  FIXED_LINE: 'a landline number',
  TOLL_FREE: 'a toll-free number',
  PREMIUM_RATE: 'a premium-rate number',
  VOIP: 'a VoIP number',
  SHARED_COST: 'a shared-cost number',
  UAN: 'a service number',
  PAGER: 'a pager number',
  PERSONAL_NUMBER: 'a personal number',
  VOICEMAIL: 'a voicemail number',
};

/**
 * Country names for refusals, made on first use: constructing Intl.DisplayNames maps ~5 MiB
 * of ICU data into the process, which a service that never meets a foreign number need not
 * carry.
 */
let regionNames: Intl.DisplayNames | undefined;
function regionName(code: string): string {
  regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
  return regionNames.of(code) ?? code;
}

/**
 * Normalizes a hand-typed Belarus mobile number to `+375XXXXXXXXX`.
 *
 * Accepts the international form with or without `+` or with the `00` prefix, the national
 * form with the `8 0XX` / `0XX` trunk prefix, and the bare 9-digit number, with spaces,
 * dashes, dots and brackets anywhere. Validity and the mobile/landline distinction come from
 * libphonenumber-js `max` metadata, so only allocated mobile ranges pass (e.g. `+375 25 5…`
 * passes, `+375 25 1…` does not: that range is not allocated).
 *
 * Refusals: `invalid: landline` for a valid Belarus number that cannot receive SMS
 * (landline, toll-free, VoIP…), `invalid: not a Belarus number` for a valid number of
 * another country, `invalid: malformed` for everything else.
 */
export function normalizePhone(input: string): NormalizedPhone {
  const shown = input.trim();
  if (shown === '') return malformed('the phone number is empty');
  // NBSP and narrow NBSP come in from copy-paste out of documents and CRM cards.
  const cleaned = shown.replace(/[\u00a0\u202f]/g, ' ');
  if (!PHONE_CHARS.test(cleaned) || !/\d/.test(cleaned)) {
    return malformed(`${shown} is not a phone number: only digits, spaces, +, -, ( ) are allowed`);
  }
  const digits = cleaned.replace(/\D/g, '');
  // Belarus dials out with 8~10, which the metadata knows; the `00` habit from elsewhere in
  // Europe it does not, and would read `00375…` as a national number.
  const text =
    !cleaned.startsWith('+') && digits.startsWith('00') ? `+${digits.slice(2)}` : cleaned;

  const parsed = parsePhoneNumberFromString(text, 'BY');
  if (parsed?.isValid()) {
    return parsed.countryCallingCode === '375'
      ? classifyBelarus(parsed, shown)
      : foreign(parsed, shown);
  }
  // A foreign number typed without `+` ("79161234567") reads as a broken Belarus number;
  // say what it really is when the digits make a valid international number.
  if (!text.startsWith('+') && digits.length >= 11 && !digits.startsWith('375')) {
    const international = parsePhoneNumberFromString(`+${digits}`);
    if (international?.isValid() && international.countryCallingCode !== '375') {
      return foreign(international, shown);
    }
  }
  if (parsed?.countryCallingCode === '375') {
    return malformed(`${shown} is not a valid Belarus number${belarusHint(parsed.nationalNumber)}`);
  }
  return malformed(`${shown} is not a valid phone number${lengthHint(text)}`);
}

function classifyBelarus(parsed: PhoneNumber, shown: string): NormalizedPhone {
  const type = parsed.getType();
  if (type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE') {
    return { ok: true, phone: parsed.number };
  }
  const kind = (type && TYPE_NAMES[type]) ?? 'not a mobile number';
  return {
    ok: false,
    reason: 'invalid: landline',
    message: `${shown} is ${kind}: SMS can only go to ${MOBILE_CODES_HINT}`,
  };
}

/** Why an invalid Belarus number is invalid, as far as we can tell from its digits. */
function belarusHint(national: string): string {
  if (!/^(25|29|33|44)/.test(national)) return '';
  if (national.length < 9) return ': too few digits (a mobile number has 9 after +375)';
  if (national.length > 9) return ': too many digits (a mobile number has 9 after +375)';
  return `: +375 ${national.slice(0, 2)} ${national.slice(2, 3)}… is not an allocated mobile range`;
}

function foreign(parsed: PhoneNumber, shown: string): NormalizedPhone {
  const country = parsed.country ? regionName(parsed.country) : undefined;
  const where = country ? `a number in ${country}` : 'a foreign number';
  return {
    ok: false,
    reason: 'invalid: not a Belarus number',
    message: `${shown} is ${where} (+${parsed.countryCallingCode}): SMS can only go to Belarus ${MOBILE_CODES_HINT}`,
  };
}

function malformed(message: string): NormalizedPhone {
  return {
    ok: false,
    reason: 'invalid: malformed',
    message: `${message}; expected a Belarus mobile number like +375 29 123-45-67`,
  };
}

function lengthHint(text: string): string {
  const verdict = validatePhoneNumberLength(text, 'BY');
  if (verdict === 'TOO_SHORT') return ': too few digits';
  if (verdict === 'TOO_LONG') return ': too many digits';
  return '';
}

/**
 * Hides the middle of a phone number for logs: `+375291234567` → `+375 29 ***-**-67`.
 * Anything not in the normalized form keeps its first four characters and last two digits.
 */
export function maskPhone(phone: string): string {
  const by = /^\+375(\d{2})\d{5}(\d{2})$/.exec(phone);
  if (by) return `+375 ${by[1]} ***-**-${by[2]}`;
  let seen = 0;
  const total = phone.replace(/\D/g, '').length;
  return [...phone]
    .map((ch, i) => {
      if (!/\d/.test(ch)) return ch;
      seen += 1;
      return i < 4 || seen > total - 2 ? ch : '*';
    })
    .join('');
}
