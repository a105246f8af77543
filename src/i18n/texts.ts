import type { Localized } from './lang.js';

/** Our product as Bitrix24 users see it. */
export const PRODUCT: Localized = { ru: 'SMS через МТС Беларусь', en: 'MTS Belarus SMS' };

/** `messageservice.sender.add` NAME / DESCRIPTION (maps keyed by language, SPEC §3). */
export const PROVIDER_NAME: Localized = { ru: 'МТС Беларусь SMS', en: 'MTS Belarus SMS' };
export const PROVIDER_DESCRIPTION: Localized = {
  ru: 'SMS через МТС Коммуникатор (Беларусь) со статусами доставки',
  en: 'SMS through MTS Communicator (Belarus), with delivery statuses',
};

/** Titles of the CRM timeline note for a message that ended badly. */
export const NOT_SENT: Localized = { ru: 'SMS не отправлено', en: 'SMS was not sent' };
export const NOT_DELIVERED: Localized = { ru: 'SMS не доставлено', en: 'SMS was not delivered' };

/** The app's page inside Bitrix24 (`/b24/app`). */
export const APP_PAGE = {
  refused: {
    ru: 'Эта страница открывается только из Битрикс24, где установлено приложение.',
    en: 'This page opens only from the Bitrix24 portal where the app is installed.',
  },
  adminsOnly: {
    ru: 'Сводка по всему порталу доступна администраторам Битрикс24. SMS по клиенту — на вкладке «SMS» в карточке CRM.',
    en: 'The whole portal’s figures are for Bitrix24 administrators. A client’s SMS: the “SMS” tab of the CRM card.',
  },
  today: { ru: 'Сегодня', en: 'Today' },
  last30: { ru: '30 дней', en: '30 days' },
  sent: { ru: 'Отправлено', en: 'Sent' },
  delivered: { ru: 'Доставлено', en: 'Delivered' },
  noMessages: {
    ru: 'SMS на номера этой записи ещё не было.',
    en: 'No SMS to this record’s numbers yet.',
  },
  sandbox: {
    ru: 'РЕЖИМ ПЕСОЧНИЦЫ — настоящие SMS не отправляются.',
    en: 'SANDBOX MODE — no real SMS is sent.',
  },
  installed: {
    ru: 'Провайдер SMS <b>МТС Беларусь SMS</b> и робот <b>SMS через МТС Беларусь</b> установлены. Отправляйте SMS из карточки CRM, добавьте робота на стадию воронки или используйте CRM-маркетинг.',
    en: 'The SMS provider <b>MTS Belarus SMS</b> and the robot <b>SMS via MTS Belarus</b> are installed. Send from a CRM card (SMS), add the robot to a funnel stage, or use CRM marketing.',
  },
  statuses: {
    ru: 'Статусы доставки появляются в карточке CRM. Состояние сервиса и сообщения — на странице администратора сервиса.',
    en: 'Delivery statuses appear on the CRM card. Service status and messages: the service’s admin page.',
  },
} satisfies Record<string, Localized>;
