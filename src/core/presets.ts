/**
 * Ready robot templates for the seed's scenarios (docs/robots.md explains the setup of each).
 * Placeholders are filled from the CRM document the robot runs on (SPEC §5); the field names
 * with UF_CRM_… are examples — use your portal's field codes.
 */
export interface RobotPreset {
  id: string;
  title: string;
  /** Where the robot goes: entity and funnel stage. */
  where: string;
  messageType: 'transactional' | 'marketing';
  template: string;
  /** The robot's "Send at" value, when the scenario schedules the SMS. */
  sendAt?: string;
}

export const ROBOT_PRESETS: readonly RobotPreset[] = [
  {
    id: 'new-lead',
    title: 'New lead: request received',
    where: 'Leads, first stage ("Unprocessed")',
    messageType: 'transactional',
    template: '#LEAD_NAME#, ваша заявка принята. Мы свяжемся с вами в течение часа.',
  },
  {
    id: 'invoice-erip',
    title: 'Invoice issued: pay through ERIP',
    where: 'Deals, stage "Invoice issued"',
    messageType: 'transactional',
    template:
      '#CONTACT_NAME#, счёт по заказу «#DEAL_TITLE#» на #DEAL_OPPORTUNITY# выставлен. Оплата в ЕРИП: #DEAL_UF_CRM_ERIP_LINK#',
  },
  {
    id: 'deal-won',
    title: 'Deal won: thanks and a review link',
    where: 'Deals, final stage "Deal won"',
    messageType: 'transactional',
    template: '#CONTACT_NAME#, спасибо за покупку! Будем рады отзыву: #DEAL_UF_CRM_REVIEW_LINK#',
  },
  {
    id: 'appointment-reminder',
    title: 'Appointment reminder a day before',
    where: 'Deals, stage "Appointment booked"',
    messageType: 'transactional',
    template:
      '#CONTACT_NAME#, напоминаем: вы записаны на #DEAL_UF_CRM_VISIT_AT#. Если планы изменились, позвоните нам.',
    sendAt:
      '{{Visit date and time}} - 1 day (Bitrix24 expression: {=Document:UF_CRM_VISIT_AT} with "-1d")',
  },
  {
    id: 'missed-call',
    title: 'Missed call: we noticed your call',
    where: 'Leads created from a missed call (source "Call")',
    messageType: 'transactional',
    template: 'Здравствуйте! Мы заметили ваш звонок и перезвоним в ближайшее время.',
  },
];
