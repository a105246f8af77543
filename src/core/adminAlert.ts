import { Bitrix24Error } from '../bitrix24/errors.js';
import type { Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import { type AdminAlert, alertText } from '../i18n/alerts.js';
import { portalLang } from '../i18n/lang.js';
import {
  type Connection,
  getPortal,
  portalSettings,
  updatePortalSettings,
} from '../store/index.js';

export type { AdminAlert };

export interface AdminAlertDeps {
  api: Bitrix24Api;
  conn: Connection;
  clock: Clock;
}

export interface AdminAlertResult {
  /** The Bitrix24 user notified. */
  userId: number;
  /** `im.notify.system.add`'s id of the notification (false when Bitrix24 made none). */
  notificationId: number | false;
}

/** One tag per subject: a newer alert replaces the older one (im.notify.system.add `TAG`). */
const TAGS: Record<AdminAlert['kind'], string> = {
  sending_paused: 'mts_sms_by.sending',
  sending_resumed: 'mts_sms_by.sending',
  alpha_name_held: 'mts_sms_by.alpha',
  text: 'mts_sms_by.note',
};

/**
 * Tells the portal's administrator something through a Bitrix24 system notification
 * (`im.notify.system.add`, scope `im`), in the portal's language.
 *
 * The recipient is the administrator who installed (or last updated) the app, recorded at
 * install through `profile`. For a portal installed before that was recorded, `profile` is
 * asked now with the stored tokens — which are the installing user's (`user/user-current.md`:
 * "If you use a saved admin token, the administrator will be displayed") — and the answer is
 * kept. Alerts about one subject share a TAG, so "sending resumed" replaces "sending paused".
 *
 * Throws Bitrix24Error when Bitrix24 refuses (e.g. the app lacks the `im` scope, or the
 * portal has no REST at all: then there is no way to reach the admin through Bitrix24).
 */
export async function sendAdminAlert(
  deps: AdminAlertDeps,
  portalId: string,
  alert: AdminAlert,
): Promise<AdminAlertResult> {
  const portal = await getPortal(deps.conn, portalId);
  if (!portal) throw new Error(`no installed portal with member_id ${portalId}`);
  const settings = portalSettings(portal);
  const userId = settings.adminUserId ?? (await findAdmin(deps, portalId));
  const result = await deps.api.call<unknown>(portalId, 'im.notify.system.add', {
    USER_ID: userId,
    MESSAGE: alertText(alert, portalLang(settings)),
    TAG: TAGS[alert.kind],
  });
  const id = Number(result);
  return { userId, notificationId: Number.isInteger(id) && id > 0 ? id : false };
}

async function findAdmin(deps: AdminAlertDeps, portalId: string): Promise<number> {
  const me = await deps.api.call<{ ID?: unknown; ADMIN?: unknown }>(portalId, 'profile');
  const id = Number(me?.ID);
  if (me?.ADMIN !== true || !Number.isInteger(id) || id <= 0) {
    throw new Bitrix24Error(
      `portal ${portalId}: the stored tokens belong to user ${String(me?.ID)}, not an administrator; reinstall the app as an administrator so alerts reach one`,
      { action: 'permanent', code: 'B24_NO_ADMIN' },
    );
  }
  await updatePortalSettings(deps.conn, portalId, { adminUserId: id }, deps.clock.now());
  return id;
}
