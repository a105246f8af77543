import { describe, expect, it } from 'vitest';
import { decideFromRows } from '../../src/consent/check.js';
import { normalizePhone } from '../../src/domain/phone.js';
import { checkText } from '../../src/domain/segments.js';
import { explainFailReason, explainUndelivered, langOf } from '../../src/i18n/index.js';
import type { ConsentRecordRow } from '../../src/store/consent.js';

/** The reason as intake stores it: SPEC's code, then the explanation. */
function phoneReason(input: string): string {
  const n = normalizePhone(input);
  if (n.ok) throw new Error(`${input} is valid`);
  return `${n.reason} — ${n.message}`;
}

describe('langOf: Bitrix24 language ids', () => {
  it.each([
    [undefined, 'ru'],
    ['', 'ru'],
    ['ru', 'ru'],
    ['by', 'ru'],
    ['kz', 'ru'],
    ['RU', 'ru'],
    ['en', 'en'],
    ['de', 'en'],
    ['ua', 'en'],
    ['pl', 'en'],
  ] as const)('%j → %s', (id, lang) => {
    expect(langOf(id)).toBe(lang);
  });
});

describe('failure reasons in the portal language, from the reasons we actually store', () => {
  it('a landline', () => {
    const reason = phoneReason('+375 17 123-45-67');
    expect(reason).toMatch(/^invalid: landline — /);
    expect(explainFailReason(reason, 'ru')).toEqual({
      why: expect.stringMatching(
        /^\+375 17 123-45-67 — не мобильный номер .*только на мобильные номера Беларуси \(\+375 25, 29, 33, 44\)$/,
      ),
      advice: 'Добавьте в карточку мобильный номер клиента и отправьте снова.',
    });
    expect(explainFailReason(reason, 'en').why).toMatch(
      /^\+375 17 123-45-67 is not a mobile number .*SMS go only to Belarus mobile numbers/,
    );
  });

  it('a foreign number is refused by our Belarus-only rule, not by MTS', () => {
    const reason = phoneReason('+7 916 123-45-67');
    expect(reason).toMatch(/^invalid: not a Belarus number — /);
    const ru = explainFailReason(reason, 'ru');
    const en = explainFailReason(reason, 'en');
    expect(ru.why).toMatch(
      /номер другой страны \(\+7\): этот сервис отправляет SMS только на мобильные номера Беларуси/,
    );
    expect(en.why).toMatch(
      /a number of another country \(\+7\): this service sends SMS only to Belarus mobile numbers/,
    );
    for (const t of [ru, en]) expect(`${t.why} ${t.advice}`).not.toMatch(/MTS|МТС/);
  });

  it('a malformed number', () => {
    const reason = phoneReason('hello');
    expect(reason).toMatch(/^invalid: malformed — /);
    expect(explainFailReason(reason, 'ru').why).toMatch(/^номер телефона записан с ошибкой \(/);
    expect(explainFailReason(reason, 'en').advice).toMatch(/Correct the number/);
  });

  it('a text too long, with the counts', () => {
    const check = checkText('Привет! '.repeat(60));
    if (check.ok) throw new Error('expected too long');
    expect(explainFailReason(check.reason, 'ru').why).toBe(
      `текст занимает ${check.parts} SMS, а допускается не больше 5 (335 символов кириллицей или 765 латиницей)`,
    );
    expect(explainFailReason(check.reason, 'en').why).toBe(
      `the text needs ${check.parts} SMS parts; at most 5 are allowed (335 characters in Cyrillic or 765 in Latin)`,
    );
    const empty = checkText('  ');
    expect(empty.ok === false && explainFailReason(empty.reason, 'ru').why).toBe(
      'текст сообщения пуст',
    );
  });

  it('no consent, and an opt-out', () => {
    const no = decideFromRows(
      [{ entity_type: 'contact', entity_id: 5, consent: 0 } as ConsentRecordRow],
      'UF_CRM_SMS_CONSENT',
    );
    expect(no.allowed).toBe(false);
    const reason = no.allowed ? '' : no.reason;
    expect(explainFailReason(reason, 'ru').why).toBe(
      'нет согласия клиента на рекламные SMS (contact #5: поле UF_CRM_SMS_CONSENT — «нет»)',
    );
    expect(explainFailReason(reason, 'en').why).toBe(
      'no marketing consent from the client (contact #5 has UF_CRM_SMS_CONSENT = no)',
    );
    expect(explainFailReason('opted out on 2026-11-20 (reply STOP)', 'ru')).toEqual({
      why: 'клиент отказался от рекламных SMS 2026-11-20 (reply STOP)',
      advice: 'Рекламу на этот номер не отправляйте.',
    });
  });

  it('an unknown reason is shown as stored', () => {
    expect(explainFailReason('something new', 'ru').why).toBe('something new');
  });

  it('undelivered states with the MTS codes', () => {
    expect(explainUndelivered('EXPIRED', { status: 3, hyberStatus: 35015 }, 'ru').why).toMatch(
      /^абонент был недоступен.*\(MTS: status 3, msg_status 35015\)$/,
    );
    expect(explainUndelivered('UNDELIV', { status: 3, substatus: 31 }, 'en').why).toMatch(
      /^not delivered: .*\(MTS: status 3, substatus 31\)$/,
    );
    expect(explainUndelivered('UNDELIV', { hyberStatus: 36024 }, 'ru').why).toMatch(
      /номер неверный/,
    );
  });
});
