import type { Lang } from './lang.js';
import { PRODUCT } from './texts.js';

/** What an administrator is told through a Bitrix24 system notification. */
export type AdminAlert =
  /** Sending stopped for the whole MTS account (credentials, balance, connection). */
  | { kind: 'sending_paused'; reason: string; until?: number }
  /** Sending goes on again after a pause. */
  | { kind: 'sending_resumed' }
  /** MTS refuses one alpha name: its messages wait, others go on. */
  | { kind: 'alpha_name_held'; alphaName: string; reason: string }
  /** Any other text, given in both languages. */
  | { kind: 'text'; text: Readonly<Record<Lang, string>> };

/** Minsk wall-clock time, as a person reads it in `lang`. */
export function minskTime(epochMs: number, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', {
    timeZone: 'Europe/Minsk',
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(epochMs);
}

/** The notification text for `alert` in `lang` (plain text; Bitrix24 trims it). */
export function alertText(alert: AdminAlert, lang: Lang): string {
  const p = PRODUCT[lang];
  switch (alert.kind) {
    case 'sending_paused': {
      const until = alert.until ? minskTime(alert.until, lang) : undefined;
      return lang === 'ru'
        ? `${p}: отправка SMS приостановлена — ${alert.reason}. Сообщения не потеряны: они ждут в очереди и уйдут сами, как только МТС снова начнёт их принимать${until ? ` (следующая попытка — ${until} по Минску)` : ''}. Проверьте договор, баланс и доступы в МТС Коммуникаторе.`
        : `${p}: sending SMS is paused — ${alert.reason}. No message is lost: they wait in the queue and go out by themselves once MTS accepts them again${until ? ` (next try at ${until} Minsk time)` : ''}. Check the contract, balance and credentials in MTS Communicator.`;
    }
    case 'sending_resumed':
      return lang === 'ru'
        ? `${p}: отправка SMS возобновлена, очередь отправляется.`
        : `${p}: sending SMS has resumed; the queue is going out.`;
    case 'alpha_name_held':
      return lang === 'ru'
        ? `${p}: МТС не принимает имя отправителя «${alert.alphaName}» — ${alert.reason}. Сообщения с этим именем ждут в очереди, остальные отправляются. Согласуйте имя с МТС или выберите другое.`
        : `${p}: MTS does not accept the sender name "${alert.alphaName}" — ${alert.reason}. Messages with this name wait in the queue; others go out. Have the name approved by MTS or choose another.`;
    case 'text':
      return alert.text[lang];
  }
}
