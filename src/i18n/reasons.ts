import type { Lang } from './lang.js';

/**
 * Why a message failed, for the person reading the CRM card, and what to do about it.
 *
 * The stored reason keeps SPEC's machine-readable code first (`invalid: landline — …`,
 * `text is 7 SMS parts …`, `no marketing consent: …`, `opted out on …`); this reads the code
 * and the facts after it (the number as written, part counts, the CRM record) and says the
 * same in the portal's language. A reason it does not know is shown as stored.
 */
export interface Explained {
  /** What happened, without a final full stop. */
  why: string;
  /** What the manager can do, one sentence. */
  advice: string;
}

const MOBILE: Record<Lang, string> = {
  ru: 'мобильные номера Беларуси (+375 25, 29, 33, 44)',
  en: 'Belarus mobile numbers (+375 25, 29, 33, 44)',
};

/** `invalid: landline — +375 17 123-45-67 is a landline number: …` → `+375 17 123-45-67`. */
function numberShown(detail: string): string | undefined {
  return /^(.+?) is (?:a |an |not )/.exec(detail)?.[1];
}

type Rule = {
  match: RegExp;
  explain: (m: RegExpExecArray, lang: Lang) => Explained;
};

const RULES: Rule[] = [
  // Robot failures (the workflow's log and the robot's `error` return value).
  {
    match: /^the SMS template cannot be filled: (.*)$/s,
    explain: (m, lang) => {
      const detail = m[1] ?? '';
      if (lang === 'en')
        return {
          why: `the SMS template cannot be filled: ${detail}`,
          advice: 'Fill the fields in the CRM record or change the template.',
        };
      const ru = detail
        .replace(/unknown placeholders? (.*?)(;|$)/, 'неизвестные поля $1$2')
        .replace(/ (?:is|are) empty in the CRM record/, ' не заполнены в карточке CRM');
      return {
        why: `шаблон SMS не заполнить: ${ru}`,
        advice: 'Заполните поля в карточке CRM или исправьте шаблон.',
      };
    },
  },
  {
    match: /^no mobile phone in the CRM record: (.*)$/s,
    explain: (m, lang) =>
      lang === 'ru'
        ? {
            why: `в карточке CRM нет мобильного номера (есть: ${m[1]})`,
            advice: 'Добавьте мобильный номер +375 25/29/33/44.',
          }
        : {
            why: `no mobile phone in the CRM record (found: ${m[1]})`,
            advice: 'Add a mobile number +375 25/29/33/44.',
          },
  },
  {
    match: /^no phone number in the CRM record/,
    explain: (_m, lang) =>
      lang === 'ru'
        ? {
            why: 'в карточке CRM (и у её контакта) нет телефона',
            advice: 'Добавьте мобильный номер.',
          }
        : {
            why: 'no phone number in the CRM record (or its contact)',
            advice: 'Add a mobile number.',
          },
  },
  {
    match: /^the robot has no SMS text$/,
    explain: (_m, lang) =>
      lang === 'ru'
        ? {
            why: 'в настройках робота нет текста SMS',
            advice: 'Укажите текст в настройках робота.',
          }
        : { why: 'the robot has no SMS text', advice: 'Set the text in the robot settings.' },
  },
  {
    match: /^invalid: landline(?: — (.*))?$/s,
    explain: (m, lang) => {
      const shown = numberShown(m[1] ?? '');
      return lang === 'ru'
        ? {
            why: `${shown ? `${shown} — ` : ''}не мобильный номер (городской или служебный): SMS отправляются только на ${MOBILE.ru}`,
            advice: 'Добавьте в карточку мобильный номер клиента и отправьте снова.',
          }
        : {
            why: `${shown ? `${shown} is ` : 'the number is '}not a mobile number (a landline or service number): SMS go only to ${MOBILE.en}`,
            advice: 'Add the client’s mobile number to the card and send again.',
          };
    },
  },
  {
    match: /^invalid: not a Belarus number(?: — (.*))?$/s,
    explain: (m, lang) => {
      const detail = m[1] ?? '';
      const shown = numberShown(detail);
      const code = /\((\+\d+)\)/.exec(detail)?.[1];
      // Our rule, not MTS's: MTS itself sells SMS to other countries.
      return lang === 'ru'
        ? {
            why: `${shown ? `${shown} — ` : ''}номер другой страны${code ? ` (${code})` : ''}: этот сервис отправляет SMS только на ${MOBILE.ru}`,
            advice:
              'Свяжитесь с клиентом другим способом или укажите его белорусский мобильный номер.',
          }
        : {
            why: `${shown ? `${shown} is ` : 'the number is '}a number of another country${code ? ` (${code})` : ''}: this service sends SMS only to ${MOBILE.en}`,
            advice: 'Contact the client another way, or add their Belarus mobile number.',
          };
    },
  },
  {
    match: /^invalid: malformed(?: — (.*))?$/s,
    explain: (m, lang) =>
      lang === 'ru'
        ? {
            why: `номер телефона записан с ошибкой${m[1] ? ` (${m[1]})` : ''}`,
            advice: 'Исправьте номер в карточке (например, +375 29 123-45-67) и отправьте снова.',
          }
        : {
            why: `the phone number is malformed${m[1] ? ` (${m[1]})` : ''}`,
            advice: 'Correct the number in the card (e.g. +375 29 123-45-67) and send again.',
          },
  },
  {
    match: /^text is empty/,
    explain: (_m, lang) =>
      lang === 'ru'
        ? { why: 'текст сообщения пуст', advice: 'Напишите текст и отправьте снова.' }
        : { why: 'the message text is empty', advice: 'Write a text and send again.' },
  },
  {
    match:
      /^text (?:is|needs) (\d+) SMS parts .*the limit is (\d+) parts? = (\d+) characters in Cyrillic or (\d+) in Latin/s,
    explain: (m, lang) =>
      lang === 'ru'
        ? {
            why: `текст занимает ${m[1]} SMS, а допускается не больше ${m[2]} (${m[3]} символов кириллицей или ${m[4]} латиницей)`,
            advice: 'Сократите текст и отправьте снова.',
          }
        : {
            why: `the text needs ${m[1]} SMS parts; at most ${m[2]} are allowed (${m[3]} characters in Cyrillic or ${m[4]} in Latin)`,
            advice: 'Shorten the text and send again.',
          },
  },
  {
    match: /^no marketing consent: (.*)$/s,
    explain: (m, lang) => {
      const detail = m[1] ?? '';
      const record = /^(\w+) #(\d+) has (\S+) (= no|not set)/.exec(detail);
      const why =
        lang === 'ru'
          ? `нет согласия клиента на рекламные SMS${
              record
                ? ` (${record[1]} #${record[2]}: поле ${record[3]} ${record[4] === '= no' ? '— «нет»' : 'не заполнено'})`
                : /no CRM .* has this number/.test(detail)
                  ? ' (номера нет ни в одной карточке CRM)'
                  : /could not be checked/.test(detail)
                    ? ' (CRM не удалось проверить; отправка будет повторена)'
                    : ''
            }`
          : `no marketing consent from the client (${detail})`;
      return {
        why,
        advice:
          lang === 'ru'
            ? 'Не отправляйте рекламу на этот номер, пока клиент не дал согласие.'
            : 'Do not send marketing to this number until the client agrees.',
      };
    },
  },
  {
    match: /^opted out on (\d{4}-\d{2}-\d{2})(?: \((.*)\))?$/s,
    explain: (m, lang) =>
      lang === 'ru'
        ? {
            why: `клиент отказался от рекламных SMS ${m[1]}${m[2] ? ` (${m[2]})` : ''}`,
            advice: 'Рекламу на этот номер не отправляйте.',
          }
        : {
            why: `the client opted out of marketing SMS on ${m[1]}${m[2] ? ` (${m[2]})` : ''}`,
            advice: 'Do not send marketing to this number.',
          },
  },
];

/** A refusal of ours (stored `fail_reason`) in `lang`. */
export function explainFailReason(reason: string | null | undefined, lang: Lang): Explained {
  const r = (reason ?? '').trim();
  for (const rule of RULES) {
    const m = rule.match.exec(r);
    if (m) return rule.explain(m, lang);
  }
  return lang === 'ru'
    ? {
        why: r || 'сообщение отклонено',
        advice: 'Проверьте причину выше: сообщение не отправлено.',
      }
    : { why: r || 'refused', advice: 'Check the reason above; the message was not sent.' };
}

/** A message MTS could not deliver (`EXPIRED`, `UNDELIV`, `REJECTD`…), with MTS's codes. */
export function explainUndelivered(
  state: string,
  codes: {
    status?: string | number | null;
    substatus?: number | null;
    hyberStatus?: number | null;
  },
  lang: Lang,
): Explained {
  const raw = [
    codes.status != null ? `status ${codes.status}` : undefined,
    codes.substatus != null ? `substatus ${codes.substatus}` : undefined,
    codes.hyberStatus != null ? `msg_status ${codes.hyberStatus}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const suffix = raw ? ` (MTS: ${raw})` : '';
  const ru = lang === 'ru';
  if (codes.hyberStatus === 36024)
    return ru
      ? {
          why: `МТС сообщает, что номер неверный${suffix}`,
          advice: 'Исправьте номер в карточке и отправьте снова.',
        }
      : {
          why: `MTS reports the number as incorrect${suffix}`,
          advice: 'Correct the number in the card and send again.',
        };
  switch (state) {
    case 'EXPIRED':
      return ru
        ? {
            why: `абонент был недоступен: телефон выключен или вне сети всё время, пока МТС пытался доставить${suffix}`,
            advice: 'Попробуйте позже или позвоните клиенту.',
          }
        : {
            why: `the subscriber was unavailable: the phone was off or out of reach for the whole validity period${suffix}`,
            advice: 'Try again later or call the client.',
          };
    case 'REJECTD':
      return ru
        ? {
            why: `МТС заблокировал сообщение до отправки (стоп-лист, имя отправителя или фильтр содержимого)${suffix}`,
            advice: 'Проверьте текст и имя отправителя вместе с МТС.',
          }
        : {
            why: `MTS blocked the message before sending (stop list, sender name or content filter)${suffix}`,
            advice: 'Check the text and the sender name with MTS.',
          };
    default:
      return ru
        ? {
            why: `не доставлено: номер не обслуживается, заблокирован или не принимает SMS${suffix}`,
            advice: 'Проверьте номер или свяжитесь с клиентом другим способом.',
          }
        : {
            why: `not delivered: the number is not served, is blocked or cannot receive SMS${suffix}`,
            advice: 'Check the number or contact the client another way.',
          };
  }
}
