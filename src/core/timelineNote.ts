import type { BatchCommand } from '../bitrix24/types.js';
import { DEFAULT_LANG, type Lang, portalLang } from '../i18n/lang.js';
import { explainFailReason, explainUndelivered } from '../i18n/reasons.js';
import { NOT_DELIVERED, NOT_SENT, PRODUCT } from '../i18n/texts.js';
import { type Connection, getPortal, type PendingPush, portalSettings } from '../store/index.js';

/** Bitrix24 CRM entity type ids → `crm.timeline.comment.add` ENTITY_TYPE. */
const ENTITY_TYPES: Record<number, string> = { 1: 'lead', 2: 'deal', 3: 'contact', 4: 'company' };

/** The text of the CRM timeline note for a message that ended failed or undelivered. */
export function timelineComment(p: PendingPush, lang: Lang = DEFAULT_LANG): string {
  const failed = p.state === 'failed';
  const { why, advice } = failed
    ? explainFailReason(p.fail_reason, lang)
    : explainUndelivered(
        p.state,
        { status: p.mts_status, substatus: p.mts_substatus, hyberStatus: p.mts_hyber_status },
        lang,
      );
  const title = (failed ? NOT_SENT : NOT_DELIVERED)[lang];
  return `${title} (${PRODUCT[lang]}): ${why}. ${advice}`;
}

/**
 * Batch commands adding the note to each CRM entity the card send was bound to — only for a
 * final failure, only once per message, only for entity types the timeline API takes.
 */
export function timelineCommands(
  p: PendingPush,
  lang: Lang = DEFAULT_LANG,
): Record<string, BatchCommand> {
  if (
    p.timeline_noted ||
    (p.b24_status !== 'failed' && p.b24_status !== 'undelivered') ||
    !p.bindings
  )
    return {};
  let bindings: { OWNER_TYPE_ID?: unknown; OWNER_ID?: unknown }[];
  try {
    bindings = JSON.parse(p.bindings);
  } catch {
    return {};
  }
  const out: Record<string, BatchCommand> = {};
  bindings.forEach((b, i) => {
    const type = ENTITY_TYPES[Number(b.OWNER_TYPE_ID)];
    const id = Number(b.OWNER_ID);
    if (!type || !Number.isInteger(id) || id <= 0) return;
    out[`t${i}_${p.id}`] = {
      method: 'crm.timeline.comment.add',
      params: { fields: { ENTITY_ID: id, ENTITY_TYPE: type, COMMENT: timelineComment(p, lang) } },
    };
  });
  return out;
}

/**
 * The status pusher's hooks for timeline notes: `enabled(portalId)` says whether the portal
 * wants them (setting `timelineNotes`, default on) and reads its language; `commands(p)` then
 * writes each note in that language. The pusher asks `enabled` for a portal before building
 * its commands; a portal it has not asked about gets Russian.
 */
const OWNER_ENTITY_TYPE_ID: Record<string, number> = { '1': 1, '2': 2, '3': 3, '4': 4 };

const CAMPAIGN_LOG_TITLE: Record<string, Record<Lang, string>> = {
  delivered: { ru: 'SMS-рассылка: доставлено', en: 'SMS campaign: delivered' },
  undelivered: { ru: 'SMS-рассылка: не доставлено', en: 'SMS campaign: not delivered' },
  failed: { ru: 'SMS-рассылка: не отправлено', en: 'SMS campaign: not sent' },
};

/**
 * The CRM timeline entry of a campaign SMS that reached its final status
 * (`crm.timeline.logmessage.add`, SPEC §3): what was sent, to which number, and how it ended.
 * Undefined when the message is bound to no CRM record.
 */
export function campaignLogCommand(
  p: PendingPush,
  lang: Lang = DEFAULT_LANG,
): BatchCommand | undefined {
  let binding: { OWNER_TYPE_ID?: unknown; OWNER_ID?: unknown } | undefined;
  try {
    binding = p.bindings ? JSON.parse(p.bindings)[0] : undefined;
  } catch {
    return undefined;
  }
  const entityTypeId = OWNER_ENTITY_TYPE_ID[String(binding?.OWNER_TYPE_ID)];
  const entityId = Number(binding?.OWNER_ID);
  if (!entityTypeId || !Number.isInteger(entityId) || entityId <= 0) return undefined;
  const title = CAMPAIGN_LOG_TITLE[p.b24_status]?.[lang] ?? `SMS: ${p.b24_status}`;
  const why = p.b24_status === 'delivered' ? '' : `\n${timelineComment(p, lang)}`;
  return {
    method: 'crm.timeline.logmessage.add',
    params: {
      fields: {
        entityTypeId,
        entityId,
        title,
        text: `${p.phone ?? ''}: ${p.text}${why}`,
        iconCode: 'info',
      },
    },
  };
}

export function makeTimelineNotes(conn: Connection): {
  enabled(portalId: string): Promise<boolean>;
  commands(p: PendingPush): Record<string, BatchCommand>;
  campaignLog(p: PendingPush): BatchCommand | undefined;
} {
  const langs = new Map<string, Lang>();
  return {
    async enabled(portalId) {
      const portal = await getPortal(conn, portalId);
      if (!portal) return false;
      const settings = portalSettings(portal);
      langs.set(portalId, portalLang(settings));
      return settings.timelineNotes !== false;
    },
    commands: (p) => timelineCommands(p, langs.get(p.portal_id) ?? DEFAULT_LANG),
    campaignLog: (p) => campaignLogCommand(p, langs.get(p.portal_id) ?? DEFAULT_LANG),
  };
}
