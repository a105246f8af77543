import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Bitrix24Error } from '../bitrix24/errors.js';
import type { Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import { PROVIDER_DESCRIPTION, PROVIDER_NAME } from '../i18n/texts.js';
import {
  type Connection,
  getPortal,
  listPortals,
  markRegistered,
  type Portal,
  type PortalSettings,
  portalSettings,
  providerCodesInUse,
} from '../store/index.js';
import { ROBOT_CODE, robotDefinition } from './robotDefinition.js';
import { CRM_TABS } from './verifyAppOpen.js';

/** Our provider code in Bitrix24 (SPEC §3). */
export const SENDER_CODE = 'mts_sms_by';

/**
 * The CODE of the provider of an extra Sender ID (SPEC §3: one provider per alpha name, so a
 * manager chooses the alpha name in the CRM card and robots): `mts_sms_by.SHOP`. A CODE allows
 * `[a-zA-Z0-9._-]` only: other characters become `-`, with a hash of the name so that two
 * names never share a CODE.
 */
export function providerCode(alpha: string): string {
  if (/^[A-Za-z0-9._-]+$/.test(alpha)) return `${SENDER_CODE}.${alpha}`;
  const hash = createHash('sha256').update(alpha).digest('hex').slice(0, 6);
  return `${SENDER_CODE}.${alpha.replace(/[^A-Za-z0-9._-]/g, '-')}-${hash}`;
}

/**
 * The alpha name a provider CODE of this portal stands for: null for the default provider
 * (the portal's own choice by message type applies), undefined for a CODE that is not ours.
 */
export function alphaForCode(
  settings: Pick<PortalSettings, 'senders'>,
  code: string,
): string | null | undefined {
  if (code === SENDER_CODE) return null;
  return (settings.senders ?? []).find((a) => providerCode(a) === code);
}

export interface RegisterDeps {
  api: Bitrix24Api;
  conn: Connection;
  clock: Clock;
  logger: Logger;
  publicUrl: string;
  /** More setup after the provider and robot (e.g. the consent field). */
  afterRegister?: (portal: Portal) => Promise<void>;
}

export function robotHandlerUrl(publicUrl: string, portal: Pick<Portal, 'handler_key'>): string {
  return `${publicUrl}/b24/robot/${portal.handler_key}`;
}

export function handlerUrl(publicUrl: string, portal: Pick<Portal, 'handler_key'>): string {
  return `${publicUrl}/b24/sms/${portal.handler_key}`;
}

function isB24Error(err: unknown, code: string): boolean {
  return err instanceof Bitrix24Error && err.b24Error === code;
}

/**
 * Registers (or re-registers) our SMS providers in the portal — the default one and one per
 * extra Sender ID of its settings, removing the extra ones no longer set — and our robot.
 * Idempotent: an existing provider with our CODE is updated with the current HANDLER URL; when
 * update is refused the provider is deleted and added again.
 */
export async function registerPortal(
  deps: RegisterDeps,
  portal: Portal,
): Promise<{ sender: 'added' | 'updated' | 'replaced'; robot: 'added' | 'updated' }> {
  const log = deps.logger.child({ portalId: portal.id, domain: portal.domain });
  const sender = await registerProvider(deps, portal, SENDER_CODE, PROVIDER_NAME, log);
  const extra = portalSettings(portal).senders ?? [];
  for (const alpha of extra) {
    const name = Object.fromEntries(
      Object.entries(PROVIDER_NAME).map(([lang, n]) => [lang, `${n}: ${alpha}`]),
    );
    await registerProvider(deps, portal, providerCode(alpha), name, log);
  }
  await removeStaleProviders(deps, portal, new Set(extra.map(providerCode)));
  const robot = await registerRobot(deps, portal);
  await bindAppEvents(deps, portal);
  await bindCardTabs(deps, portal, log);
  await deps.afterRegister?.(portal);
  await markRegistered(deps.conn, portal.id, deps.clock.now());
  log.info({ sender, robot, senders: extra }, 'SMS providers and robot registered in Bitrix24');
  return { sender, robot };
}

/** One provider, added or brought up to date. */
async function registerProvider(
  deps: RegisterDeps,
  portal: Portal,
  code: string,
  name: Record<string, string>,
  log: Logger,
): Promise<'added' | 'updated' | 'replaced'> {
  const params = {
    CODE: code,
    TYPE: 'SMS',
    HANDLER: handlerUrl(deps.publicUrl, portal),
    // Maps keyed by language (messageservice-sender-add.md): each user sees their own.
    NAME: name,
    DESCRIPTION: PROVIDER_DESCRIPTION,
  };
  try {
    await deps.api.call(portal.id, 'messageservice.sender.add', params);
    return 'added';
  } catch (err) {
    if (!isB24Error(err, 'ERROR_SENDER_ALREADY_INSTALLED')) throw err;
  }
  try {
    await deps.api.call(portal.id, 'messageservice.sender.update', {
      CODE: code,
      HANDLER: params.HANDLER,
      NAME: params.NAME,
      DESCRIPTION: params.DESCRIPTION,
    });
    return 'updated';
  } catch (updateErr) {
    if (updateErr instanceof Bitrix24Error && updateErr.action !== 'permanent') throw updateErr;
    log.warn(
      { err: updateErr, code },
      'messageservice.sender.update refused; deleting and adding the provider again',
    );
    await deps.api.call(portal.id, 'messageservice.sender.delete', { CODE: code });
    await deps.api.call(portal.id, 'messageservice.sender.add', params);
    return 'replaced';
  }
}

/** Deletes our extra-Sender-ID providers that the settings no longer list. */
async function removeStaleProviders(
  deps: RegisterDeps,
  portal: Portal,
  wanted: Set<string>,
): Promise<void> {
  const codes = await deps.api.call<string[]>(portal.id, 'messageservice.sender.list', {});
  const stale = (Array.isArray(codes) ? codes : []).filter(
    (code) => code.startsWith(`${SENDER_CODE}.`) && !wanted.has(code),
  );
  if (!stale.length) return;
  // A provider whose messages still have a status to report stays until they have: Bitrix24
  // finds a message by provider and id. The next registration removes it.
  const inUse = new Set(await providerCodesInUse(deps.conn, portal.id));
  for (const code of stale)
    if (inUse.has(code))
      deps.logger.info(
        { portalId: portal.id, code },
        'provider kept until its messages have their final status in Bitrix24',
      );
    else await deps.api.call(portal.id, 'messageservice.sender.delete', { CODE: code });
}

/**
 * Subscribes to the app's own lifecycle events: ONAPPUPDATE wipes providers, robots and event
 * handlers, so we register again on it; ONAPPUNINSTALL marks the portal uninstalled.
 * Binding twice is refused by Bitrix24 ("Handler already binded"): that is success here.
 */
async function bindAppEvents(deps: RegisterDeps, portal: Portal): Promise<void> {
  const handler = `${deps.publicUrl}/b24/events`;
  for (const event of ['ONAPPUPDATE', 'ONAPPUNINSTALL']) {
    try {
      await deps.api.call(portal.id, 'event.bind', { event, handler });
    } catch (err) {
      if (!alreadyBound(err)) throw err;
    }
  }
}

/** True when Bitrix24 refused a bind because it is already in place ("Handler already binded"). */
function alreadyBound(err: unknown): boolean {
  return (
    err instanceof Bitrix24Error &&
    err.action === 'permanent' &&
    /already/i.test(`${err.description ?? ''} ${err.message}`)
  );
}

/**
 * An "SMS" tab in the deal, contact and lead cards (`placement.bind`, scope `placement`): that
 * record's messages, on the app's page. Not essential to sending: an app created without the
 * `placement` scope still registers, with a warning that says what to add.
 */
async function bindCardTabs(deps: RegisterDeps, portal: Portal, log: Logger): Promise<void> {
  for (const placement of Object.keys(CRM_TABS)) {
    try {
      await deps.api.call(portal.id, 'placement.bind', {
        PLACEMENT: placement,
        HANDLER: `${deps.publicUrl}/b24/app`,
        TITLE: 'SMS',
        LANG_ALL: { ru: { TITLE: 'SMS' }, en: { TITLE: 'SMS' } },
      });
    } catch (err) {
      if (alreadyBound(err)) continue;
      if (err instanceof Bitrix24Error && err.action === 'permanent') {
        log.warn(
          { err: err.message, placement },
          'the SMS tab of CRM cards could not be added: give the local application the "placement" scope, then run `register`',
        );
        return;
      }
      throw err;
    }
  }
}

/** Our robot for leads, deals, contacts and smart processes; updated in place when present. */
async function registerRobot(deps: RegisterDeps, portal: Portal): Promise<'added' | 'updated'> {
  const def = robotDefinition(
    robotHandlerUrl(deps.publicUrl, portal),
    portalSettings(portal).senders ?? [],
  );
  try {
    await deps.api.call(portal.id, 'bizproc.robot.add', def);
    return 'added';
  } catch (err) {
    if (!isB24Error(err, 'ERROR_ACTIVITY_ALREADY_INSTALLED')) throw err;
    const { CODE: _code, ...fields } = def;
    await deps.api.call(portal.id, 'bizproc.robot.update', { CODE: ROBOT_CODE, FIELDS: fields });
    return 'updated';
  }
}

/** What `registerPortals` did in one portal. */
export interface RegisteredPortal {
  portalId: string;
  domain: string;
  sender: string;
  robot: string;
}

/**
 * Registers (or re-registers) one portal, by member_id, or every active portal. Throws for a
 * member_id that is not installed; stops at the first portal Bitrix24 refuses.
 */
export async function registerPortals(
  deps: RegisterDeps,
  portalId?: string,
): Promise<RegisteredPortal[]> {
  const portals = portalId
    ? [await getPortal(deps.conn, portalId)]
    : (await listPortals(deps.conn)).filter((p) => p.status === 'active');
  const out: RegisteredPortal[] = [];
  for (const p of portals) {
    if (!p) throw new Error(`no installed portal with member_id ${portalId}`);
    const r = await registerPortal(deps, p);
    out.push({ portalId: p.id, domain: p.domain, sender: r.sender, robot: r.robot });
  }
  return out;
}
