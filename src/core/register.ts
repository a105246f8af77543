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
} from '../store/index.js';
import { ROBOT_CODE, robotDefinition } from './robotDefinition.js';

/** Our provider code in Bitrix24 (SPEC §3). */
export const SENDER_CODE = 'mts_sms_by';

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
 * Registers (or re-registers) our SMS provider in the portal. Idempotent: an existing
 * provider with our CODE is updated with the current HANDLER URL; when update is refused
 * the provider is deleted and added again.
 */
export async function registerPortal(
  deps: RegisterDeps,
  portal: Portal,
): Promise<{ sender: 'added' | 'updated' | 'replaced'; robot: 'added' | 'updated' }> {
  const log = deps.logger.child({ portalId: portal.id, domain: portal.domain });
  const params = {
    CODE: SENDER_CODE,
    TYPE: 'SMS',
    HANDLER: handlerUrl(deps.publicUrl, portal),
    // Maps keyed by language (messageservice-sender-add.md): each user sees their own.
    NAME: PROVIDER_NAME,
    DESCRIPTION: PROVIDER_DESCRIPTION,
  };
  let sender: 'added' | 'updated' | 'replaced' = 'added';
  try {
    await deps.api.call(portal.id, 'messageservice.sender.add', params);
  } catch (err) {
    if (!isB24Error(err, 'ERROR_SENDER_ALREADY_INSTALLED')) throw err;
    try {
      await deps.api.call(portal.id, 'messageservice.sender.update', {
        CODE: SENDER_CODE,
        HANDLER: params.HANDLER,
        NAME: params.NAME,
        DESCRIPTION: params.DESCRIPTION,
      });
      sender = 'updated';
    } catch (updateErr) {
      if (updateErr instanceof Bitrix24Error && updateErr.action !== 'permanent') throw updateErr;
      log.warn(
        { err: updateErr },
        'messageservice.sender.update refused; deleting and adding the provider again',
      );
      await deps.api.call(portal.id, 'messageservice.sender.delete', { CODE: SENDER_CODE });
      await deps.api.call(portal.id, 'messageservice.sender.add', params);
      sender = 'replaced';
    }
  }
  const robot = await registerRobot(deps, portal);
  await bindAppEvents(deps, portal);
  await deps.afterRegister?.(portal);
  await markRegistered(deps.conn, portal.id, deps.clock.now());
  log.info({ sender, robot }, 'SMS provider and robot registered in Bitrix24');
  return { sender, robot };
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
      if (
        !(
          err instanceof Bitrix24Error &&
          err.action === 'permanent' &&
          /already/i.test(`${err.description ?? ''} ${err.message}`)
        )
      )
        throw err;
    }
  }
}

/** Our robot for leads, deals, contacts and smart processes; updated in place when present. */
async function registerRobot(deps: RegisterDeps, portal: Portal): Promise<'added' | 'updated'> {
  const def = robotDefinition(robotHandlerUrl(deps.publicUrl, portal));
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
