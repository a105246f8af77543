import type { BatchCommand } from '../bitrix24/types.js';
import type { Lang } from '../i18n/lang.js';
import { parseDocumentId } from './crmDocument.js';

/** Bitrix24 CRM entity type ids (`crm.timeline.logmessage.add` wants `entityTypeId`). */
const ENTITY_TYPE_ID = { lead: 1, deal: 2, contact: 3, company: 4 } as const;

export interface RobotTraceInput {
  /** The robot's document, e.g. ["crm","CCrmDocumentDeal","DEAL_5"]. */
  documentId: string[];
  /** Bitrix24 status the robot answers with: sent, delivered, undelivered, failed. */
  status: string;
  phone: string | null;
  text: string | null;
  error: string;
}

const TITLE: Record<Lang, string> = { ru: 'SMS через МТС (робот)', en: 'SMS via MTS (robot)' };
const STATUS: Record<Lang, Record<string, string>> = {
  ru: {
    sent: 'отправлено',
    delivered: 'доставлено',
    undelivered: 'не доставлено',
    failed: 'не отправлено',
    queued: 'в очереди',
  },
  en: {
    sent: 'sent',
    delivered: 'delivered',
    undelivered: 'not delivered',
    failed: 'not sent',
    queued: 'queued',
  },
};

/** The line a person reads on the card: status, number, text, and why when it failed. */
export function robotTraceText(t: RobotTraceInput, lang: Lang): string {
  const status = STATUS[lang][t.status] ?? t.status;
  const to = t.phone ? (lang === 'ru' ? ` на ${t.phone}` : ` to ${t.phone}`) : '';
  const why = t.error ? ` — ${t.error}` : '';
  const text = t.text ? `: «${t.text}»` : '';
  return `${lang === 'ru' ? 'SMS' : 'SMS'} ${status}${to}${why}${text}`;
}

/**
 * The batch command that leaves a robot's SMS on its CRM card: a timeline log entry (quiet,
 * grey; `crm.timeline.logmessage.add`) or a comment (`crm.timeline.comment.add`), or none.
 * Smart-process documents get a log entry with their own entityTypeId; comments need a
 * classic type name.
 */
export function robotTraceCommand(
  t: RobotTraceInput,
  mode: 'log' | 'comment' | 'off',
  lang: Lang,
): BatchCommand | null {
  if (mode === 'off') return null;
  let ref: ReturnType<typeof parseDocumentId>;
  try {
    ref = parseDocumentId(t.documentId);
  } catch {
    return null;
  }
  const text = robotTraceText(t, lang);
  if (mode === 'comment') {
    const type = ref.entity === 'item' ? `dynamic_${ref.entityTypeId}` : ref.entity;
    return {
      method: 'crm.timeline.comment.add',
      params: { fields: { ENTITY_ID: ref.id, ENTITY_TYPE: type, COMMENT: text } },
    };
  }
  const entityTypeId = ref.entity === 'item' ? ref.entityTypeId : ENTITY_TYPE_ID[ref.entity];
  return {
    method: 'crm.timeline.logmessage.add',
    params: {
      fields: { entityTypeId, entityId: ref.id, title: TITLE[lang], text, iconCode: 'info' },
    },
  };
}
