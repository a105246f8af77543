/** Our automation rule (robot) as registered with `bizproc.robot.add`. */
export const ROBOT_CODE = 'mts_sms_robot';

const DYNAMIC = 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic';

/**
 * The robot as registered. With extra Sender IDs (portal settings `senders`), a "Sender ID"
 * choice lists them; empty = the portal's Sender ID for the message type.
 */
export function robotDefinition(handler: string, senders: readonly string[] = []) {
  const choice = senders.length
    ? {
        sender: {
          Name: { ru: 'Имя отправителя (необязательно)', en: 'Sender ID (optional)' },
          Type: 'select',
          Options: {
            '': 'По умолчанию / Default',
            ...Object.fromEntries(senders.map((a) => [a, a])),
          },
          Default: '',
          Required: 'N',
          Multiple: 'N',
        },
      }
    : {};
  return {
    CODE: ROBOT_CODE,
    HANDLER: handler,
    AUTH_USER_ID: 1,
    USE_SUBSCRIPTION: 'Y',
    NAME: { ru: 'SMS через МТС Беларусь', en: 'SMS via MTS Belarus' },
    DESCRIPTION: {
      ru: 'Отправляет SMS через МТС Коммуникатор. В тексте можно использовать #CONTACT_NAME#, #DEAL_TITLE#, #DEAL_OPPORTUNITY# и другие поля CRM.',
      en: 'Sends an SMS through MTS Communicator. The text may use #CONTACT_NAME#, #DEAL_TITLE#, #DEAL_OPPORTUNITY# and other CRM fields.',
    },
    PROPERTIES: {
      text: {
        Name: { ru: 'Текст SMS', en: 'SMS text' },
        Type: 'text',
        Required: 'Y',
        Multiple: 'N',
      },
      message_type: {
        Name: { ru: 'Тип сообщения', en: 'Message type' },
        Type: 'select',
        Options: { transactional: 'Transactional / Сервисное', marketing: 'Marketing / Рекламное' },
        Default: 'transactional',
        Required: 'Y',
        Multiple: 'N',
      },
      phone: {
        Name: { ru: 'Телефон получателя (необязательно)', en: 'Recipient phone (optional)' },
        Description: {
          ru: 'Если пусто — мобильный телефон клиента из CRM',
          en: 'Empty: the client’s mobile phone from the CRM',
        },
        Type: 'string',
        Required: 'N',
        Multiple: 'N',
      },
      send_at: {
        Name: { ru: 'Отправить в (необязательно)', en: 'Send at (optional)' },
        Type: 'datetime',
        Required: 'N',
        Multiple: 'N',
      },
      ...choice,
    },
    RETURN_PROPERTIES: {
      status: {
        Name: { ru: 'Статус', en: 'Status' },
        Type: 'string',
        Required: 'N',
        Multiple: 'N',
      },
      message_id: {
        Name: { ru: 'ID сообщения', en: 'Message ID' },
        Type: 'string',
        Required: 'N',
        Multiple: 'N',
      },
      error: { Name: { ru: 'Ошибка', en: 'Error' }, Type: 'string', Required: 'N', Multiple: 'N' },
    },
    FILTER: {
      INCLUDE: [
        ['crm', 'CCrmDocumentLead'],
        ['crm', 'CCrmDocumentDeal'],
        ['crm', 'CCrmDocumentContact'],
        ['crm', DYNAMIC],
      ],
    },
  };
}
