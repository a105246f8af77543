import type { ErrorAction } from '../errors.js';

/**
 * MTS Belarus's own status and error codes: the `json2_status` column of MTS's table
 * (SPEC §2, `mts-status-codes.tsv`), plus 1130 "Incorrect password" from the 2020 document.
 * Texts are MTS's, lightly cleaned (typos, the `(submission)`/`(delivery)` suffixes).
 *
 * `class` says what a **submission** error with that code means for us (SPEC §2, "Errors at
 * submission"); codes that only ever appear in reports (`msg_status`) have none. Beyond the
 * codes SPEC names, the classes follow from MTS's own text:
 * - `pause` (the account cannot send, whatever the message): 10221 "message type not
 *   supported" (we only ever send SMS, so every message would get it), 10232/10238 "no
 *   quota/spam algorithm for the channel" and 10236/10276 "no options for connection id"
 *   (the connection is not set up, like 10231/10233), 10248 "one of the channels is not
 *   allowed" (we only send the `sms` channel: it is the contract that lacks it).
 * - `permanent` (this message's own fields): 10217–10219 (a field missing, badly formatted or
 *   of the wrong type), 10240/10241 (recipient field missing/empty), 10247 (no channels in
 *   the message), 10259 (its ttl), 10277 (no transliteration table for its language).
 * - `retry` (MTS's internal trouble): 10223, 10228, 10242, 10275 ("exception"/"internal
 *   error" of a module), and 36020/36051 which MTS's table also lists at submission
 *   (internal error; error in submission to the SMSC).
 * An `error_code` not in this table is transient and flagged (see `MtsError.unknownCode`).
 */
export interface MtsCode {
  readonly code: number;
  /** What a submission error with this code means; undefined for report-only codes. */
  readonly class: ErrorAction | undefined;
  readonly en: string;
  readonly ru: string;
}

type Row = readonly [code: number, cls: ErrorAction | null, en: string, ru: string];

// biome-ignore format: a table reads best one code per line
const ROWS: readonly Row[] = [
  // Credentials (2020 document).
  [1130, 'pause', 'Incorrect password', 'Неверный пароль'],
  // Submission errors (json2 10xxx).
  [10201, 'retry', 'Unknown error of the MTS platform', 'Неизвестная ошибка CoreN'],
  [10202, 'retry', 'Service name or host not found in the router table', 'Имя сервиса CoreN или имя узла не найдено в таблице маршрутизации CoreN'],
  [10203, 'retry', 'Service name not found for the message', 'Не найден сервис при отправке сообщения (1003)'],
  [10204, 'pause', 'Service name/connection id not found for this host and/or connection id', 'Не найден сервис при отправке сообщения (1004)'],
  [10205, 'retry', 'Error in virtual service CoreN, message body is empty', 'Ошибка при отправке сообщения в CoreN. Отсутствуют данные'],
  [10206, 'retry', 'Constraint validation failed (CoreN protocol)', 'Ошибка проверки ограничений по протоколу CoreN'],
  [10207, 'retry', 'Cannot decode the message (CoreN protocol)', 'Невозможно декодировать сообщение по протоколу CoreN'],
  [10208, 'retry', 'The source node (host) is not localhost', 'Исходный узел (хост) CoreN не является локальным хостом'],
  [10209, 'retry', 'The session flags are not correct', 'Ошибка отправки сообщения в CoreN. Некорректный флаг сессии'],
  [10210, 'retry', 'The session already exists', 'Ошибка отправки сообщения в CoreN. Сессия уже существует'],
  [10211, 'retry', 'The session was not found', 'Ошибка CoreN. Сессия не найдена'],
  [10212, 'retry', 'The session address is incorrect', 'Адрес сессии не корректный'],
  [10213, 'retry', 'The session was closed by the remote node', 'Сессия была закрыта удалённым узлом (хостом)'],
  [10214, 'retry', 'Session timeout', 'Истёк таймаут ожидания ответа от сервиса'],
  [10215, 'retry', 'The session was not found', 'Ошибка CoreN. Сессия не найдена'],
  [10216, 'retry', 'Internal error of the security module', 'Внутренняя ошибка при обработке сообщения модулем безопасности'],
  [10217, 'permanent', 'Mandatory field missing', 'Обязательное поле не найдено'],
  [10218, 'permanent', 'Incorrect data format in a field', 'Некорректный формат данных в поле'],
  [10219, 'permanent', 'Incorrect data type in a field of the message', 'Некорректный тип поля данных в сообщении'],
  [10220, 'pause', 'No permission to send this message', 'Недостаточно разрешений для отправки данного сообщения'],
  [10221, 'pause', 'Message type not supported', 'Данный тип сообщений не поддерживается системой'],
  [10222, 'pause', 'Connection not active', 'Соединение неактивно'],
  [10223, 'retry', 'Received an unknown report type', 'Принят неизвестный тип отчёта о доставке'],
  [10224, 'slow', 'Message rejected: the maximum incoming message rate was reached', 'Отправка сообщения отклонена модулем троттлинга'],
  [10225, 'slow', 'Unknown queue id in the throttling module', 'Неизвестный идентификатор очереди на модуле троттлинга'],
  [10226, 'slow', 'Exception in the throttling module', 'Неожиданное исключение при обработке сообщения модулем троттлинга'],
  [10227, 'permanent', 'Message rejected by a black or white list', 'Сообщение заблокировано модулем чёрно-белых списков'],
  [10228, 'retry', 'Exception in the black/white list module', 'Неожиданное исключение при обработке сообщения модулем чёрно-белых списков'],
  [10229, 'pause', 'Quota is not enough (no money on the account)', 'Сообщение не отправлено из-за отсутствия средств на счёте'],
  [10230, 'retry', 'Error in the quota module', 'Ошибка обработки сообщения модулем квоты'],
  [10231, 'pause', 'There are no options for this connection id', 'Неизвестный идентификатор соединения'],
  [10232, 'pause', 'No quota calculation algorithm for the channel', 'Отсутствует алгоритм расчёта квоты по данному каналу'],
  [10233, 'pause', 'Unknown quota id: there are no options for this connection id', 'Неизвестный идентификатор квоты для данного соединения'],
  [10234, 'permanent', 'Message rejected as spam', 'Сообщение заблокировано как спам'],
  [10235, 'retry', 'Error in the antispam module', 'Ошибка обработки сообщения модулем антиспама'],
  [10236, 'pause', 'There are no antispam options for this connection id', 'Неизвестный идентификатор соединения'],
  [10237, 'permanent', 'Message rejected because of its content', 'Сообщение заблокировано по антиспам списку'],
  [10238, 'pause', 'No spam check algorithm for the channel', 'Отсутствует алгоритм проверки на спам для данного канала'],
  [10239, 'retry', 'Error in the CDR generator module', 'Ошибка обработки сообщения модулем CDR'],
  [10240, 'permanent', 'Recipient field not found', 'Ошибка модификации номера. Поле получатель не найдено'],
  [10241, 'permanent', 'Recipient field is empty', 'Ошибка модификации номера. Поле получатель пустое'],
  [10242, 'retry', 'Exception in the number modification module', 'Неожиданное исключение при обработке сообщения'],
  [10243, 'permanent', 'Phone number incorrect', 'Некорректный формат номера получателя'],
  [10244, 'permanent', 'Start time is in the past', 'Время отложенной доставки в прошлом'],
  [10245, 'permanent', 'Start time is more than 24 hours ahead', 'Время отложенной доставки более суток'],
  [10246, 'permanent', 'extra_id is longer than 64 characters', 'Поле extra_id более 64 символов'],
  [10247, 'permanent', 'Channels missing', 'Каналы отправки не найдены'],
  [10248, 'pause', 'One of the channels is not allowed', 'Отправка по одному из каналов запрещена'],
  [10259, 'permanent', 'Incorrect TTL for a channel', 'Некорректное значение TTL для одного из каналов'],
  [10260, 'permanent', 'SMS text too long', 'Текст SMS слишком длинный'],
  [10261, 'permanent', 'SMS text missing', 'Текст SMS пустой'],
  [10262, 'hold', 'Not allowed to use this alpha name', 'Использование данного альфа-имени не разрешено'],
  [10275, 'retry', 'Internal error of the transliteration module', 'Внутренняя ошибка при обработке сообщения модулем транслитерации'],
  [10276, 'pause', 'There are no transliteration options for this connection id', 'Неизвестный идентификатор соединения'],
  [10277, 'permanent', 'No transliteration table for the language of the text', 'Не найдена таблица транслитерации для указанного языка'],
  // Accepted and delivered.
  [12000, null, 'Message accepted', 'Сообщение принято'],
  [12011, null, 'SMS accepted', 'SMS сообщение принято на отправку'],
  [23011, null, 'SMS delivered', 'Сообщение доставлено абоненту по SMS'],
  // Not delivered (msg_status of status 3).
  [35015, null, 'SMS expired: not delivered within its validity period (TTL)', 'Истёк срок жизни SMS сообщения (TTL)'],
  [36010, null, 'SMS undelivered, unknown subscriber', 'SMS сообщение не доставлено, абонент не существует'],
  [36011, null, 'SMS in enroute state', 'SMS сообщение отправлено'],
  [36014, null, 'Mandatory field missing', 'Обязательное поле не найдено'],
  [36015, null, 'Incorrect data format in a field', 'Некорректный формат данных в поле'],
  [36016, null, 'Incorrect data type in a field of the message', 'Некорректный тип поля данных в сообщении'],
  [36017, null, 'No permission to send this message', 'Недостаточно разрешений для отправки данного сообщения'],
  [36018, null, 'Message type not supported', 'Данный тип сообщений не поддерживается системой'],
  [36019, null, 'Connection not active', 'Соединение неактивно'],
  [36020, 'retry', 'Internal error of the MTS platform (router, scheduler or one of its modules)', 'Внутренняя ошибка платформы MTS (роутер, шедулер или один из модулей)'],
  [36021, null, 'SMS has been deleted from the SMSC', 'SMS сообщение удалено с SMSC'],
  [36024, 'permanent', 'Phone number incorrect', 'Некорректный формат номера получателя'],
  [36025, null, 'Start time is in the past', 'Время отложенной доставки в прошлом'],
  [36026, null, 'Start time is more than 24 hours ahead', 'Время отложенной доставки более суток'],
  [36027, null, 'extra_id is longer than 64 characters', 'Поле extra_id более 64 символов'],
  [36028, null, 'Channels missing', 'Каналы отправки не найдены'],
  [36029, null, 'One of the channels is not allowed', 'Отправка по одному из каналов запрещена'],
  [36030, null, 'Message has been deleted', 'Сообщение удалено'],
  [36031, null, 'SMS is undeliverable', 'SMS сообщение не доставлено'],
  [36041, null, 'SMS is in an invalid state: its status cannot be determined', 'Невозможно определить статус SMS сообщения'],
  [36048, null, 'Incorrect TTL for a channel', 'Некорректное значение TTL для одного из каналов'],
  [36049, null, 'SMS text too long', 'Текст SMS слишком длинный'],
  [36050, null, 'SMS undelivered, unidentified subscriber (wrong MSC, temporary re-registration error)', 'SMS сообщение не доставлено, неверный MSC (временная ошибка перерегистрации абонента)'],
  [36051, 'retry', 'SMS rejected (error in submission to the SMSC)', 'SMS сообщение отклонено (ошибка отправки на SMSC)'],
  [36054, null, 'SMS text missing', 'Текст SMS пустой'],
  [36055, null, 'Not allowed to use this alpha name', 'Использование данного альфа-имени не разрешено'],
  [36056, null, 'Message rejected by a black or white list', 'Сообщение заблокировано модулем чёрно-белых списков'],
  [36057, null, 'Quota is not enough (no money on the account)', 'Сообщение не отправлено из-за отсутствия средств на счёте'],
  [36058, null, 'Message rejected as spam', 'Сообщение заблокировано как спам'],
  [36059, null, 'Recipient field not found', 'Ошибка модификации номера. Поле получатель не найдено'],
  [36060, null, 'Recipient field is empty', 'Ошибка модификации номера. Поле получатель пустое'],
  [36061, null, 'SMS undelivered, absent subscriber (poor coverage or unreachable)', 'SMS сообщение не доставлено, абонент в условиях плохой связи или сейчас недоступен (MAPv3)'],
  [36064, null, 'SMS undelivered, absent subscriber (GSM_MAPERR_ABSENT_SUBSC_SM_V2P)', 'SMS сообщение не доставлено, GSM_MAPERR_ABSENT_SUBSC_SM_V2P'],
  [36065, null, 'Mobile network not found', 'Мобильная сеть не найдена'],
  [36071, 'slow', 'Maximum queue size exceeded', 'Превышен максимальный размер очереди'],
  [36090, null, 'SMS undelivered, illegal subscriber', 'SMS сообщение не доставлено, неразрешенный абонент'],
  [36110, null, 'SMS undelivered, teleservice not provisioned (no SMS service, or the subscriber is blocked)', 'SMS сообщение не доставлено, нет услуги SMS у абонента, или абонент заблокирован'],
  [36120, null, 'SMS undelivered, illegal equipment', 'SMS сообщение не доставлено, неразрешенное мобильное устройство'],
  [36130, null, 'SMS undelivered, called barred (HLR): blocked, or roaming without the service', 'SMS сообщение не доставлено, абонент заблокирован, или в роуминге с недоступной услугой роуминга'],
  [36131, null, 'SMS undelivered, called barred (MSC)', 'SMS сообщение не доставлено, неизвестный абонент'],
  [36210, null, 'SMS undelivered, facility not supported', 'SMS сообщение не доставлено, нет услуги SMS у абонента'],
  [36270, null, 'SMS undelivered, absent subscriber (HLR): unreachable for long or switched off', 'SMS сообщение не доставлено, абонент недоступен уже долгое время или аппарат выключен'],
  [36272, null, 'SMS undelivered, absent subscriber (MSC): poor coverage or unreachable', 'SMS сообщение не доставлено, абонент в условиях плохой связи или сейчас недоступен'],
  [36310, null, 'SMS undelivered, subscriber busy for MT SMS', 'SMS сообщение не доставлено, аппарат абонента не может принять SMS'],
  [36320, null, 'SMS undelivered, the phone memory is full', 'SMS сообщение не доставлено, память на телефоне переполнена'],
  [36321, null, 'SMS undelivered, equipment protocol error', 'SMS сообщение не доставлено, аппарат абонента не может принять SMS (сбой аппарата)'],
  [36322, null, 'SMS undelivered, the equipment cannot receive SMS', 'SMS сообщение не доставлено, устройство не поддерживает прием сообщений'],
  [36323, null, 'SMS undelivered, unknown service centre', 'SMS сообщение не доставлено, unknown service centre'],
  [36324, null, 'SMS undelivered, service centre congestion', 'SMS сообщение не доставлено, sc-Congestion'],
  [36325, null, 'SMS undelivered, invalid SME address', 'SMS сообщение не доставлено, invalidSME-Address'],
  [36326, null, 'SMS undelivered, subscriber not an SC subscriber', 'SMS сообщение не доставлено, subscriberNotSC-Subscriber'],
  [36330, null, 'SMS undelivered, message waiting list full', 'SMS сообщение не доставлено, список сообщений переполнен'],
  [36340, null, 'SMS undelivered, the phone cannot receive the message', 'SMS сообщение не доставлено, системный сбой: аппарат абонента не может принять SMS'],
  [36341, null, 'SMS undelivered, system failure (HLR)', 'SMS сообщение не доставлено, сбой системы при передаче на HLR'],
  [36344, null, 'SMS undelivered, system failure (MSC)', 'SMS сообщение не доставлено, сбой системы при передаче на MSC'],
  [36360, null, 'SMS undelivered, unexpected data value', 'SMS сообщение не доставлено, MAP неожиданное значение данных'],
  [36444, null, 'SMS undelivered, transaction timeout', 'SMS сообщение не доставлено, тайм-аут транзакции'],
  [36555, null, 'SMS undelivered, TCAP transaction error', 'SMS сообщение не доставлено, ошибка TCAP транзакции'],
  [36666, null, 'SMS undelivered, unknown protocol', 'SMS сообщение не доставлено, неизвестный протокол'],
];

/** Every code of the table, by code. */
export const MTS_CODES: ReadonlyMap<number, MtsCode> = new Map(
  ROWS.map(([code, cls, en, ru]) => [code, { code, class: cls ?? undefined, en, ru }]),
);

/** The table's entry for a code, if MTS's table has it. */
export function mtsCode(code: number): MtsCode | undefined {
  return MTS_CODES.get(code);
}

/**
 * MTS's own explanation of a code, in Russian or English; a code outside the table is named
 * raw so support can look it up.
 */
export function describeMtsCode(code: number, lang: 'ru' | 'en'): string {
  const c = MTS_CODES.get(code);
  if (c) return lang === 'ru' ? c.ru : c.en;
  return lang === 'ru' ? `неизвестный код MTS ${code}` : `unknown MTS code ${code}`;
}
