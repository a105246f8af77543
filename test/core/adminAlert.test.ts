import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { sendAdminAlert } from '../../src/core/adminAlert.js';
import {
  listPortals,
  type Portal,
  portalSettings,
  updatePortalSettings,
  upsertPortal,
} from '../../src/store/portals.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';

for (const dialect of DIALECTS)
  describe(`admin alerts through im.notify.system.add on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());
    const deps = () => ({ api: h.service.b24, conn: h.db.conn, clock: systemClock });
    const portalId = async () => (await listPortals(h.db.conn))[0]?.id as string;

    it('reaches the installing administrator in Russian; "resumed" replaces "paused"', async () => {
      h = await startHarness({ dialect });
      const id = await portalId();
      expect(portalSettings((await listPortals(h.db.conn))[0] as Portal).adminUserId).toBe(1);
      const paused = await sendAdminAlert(deps(), id, {
        kind: 'sending_paused',
        reason: 'MTS: 10229 quota exhausted',
        // 2026-11-24 12:30 in Minsk.
        until: Date.UTC(2026, 10, 24, 9, 30),
      });
      expect(paused).toEqual({ userId: 1, notificationId: expect.any(Number) });
      expect(h.b24.notifications).toEqual([
        expect.objectContaining({
          USER_ID: 1,
          TAG: 'mts_sms_by.sending',
          MESSAGE: expect.stringMatching(
            /^SMS через МТС Беларусь: отправка SMS приостановлена — MTS: 10229 quota exhausted\..*24\.11\.2026, 12:30 по Минску/,
          ),
        }),
      ]);
      await sendAdminAlert(deps(), id, { kind: 'sending_resumed' });
      expect(h.b24.notifications).toHaveLength(1);
      expect(h.b24.notifications[0]?.MESSAGE).toMatch(/отправка SMS возобновлена/);
      // Another subject keeps its own notification.
      await sendAdminAlert(deps(), id, {
        kind: 'alpha_name_held',
        alphaName: 'SHOP',
        reason: '10262',
      });
      expect(h.b24.notifications.map((n) => n.TAG)).toEqual([
        'mts_sms_by.sending',
        'mts_sms_by.alpha',
      ]);
    });

    it('speaks English to an English portal; the admin setting overrides', async () => {
      h = await startHarness({ dialect, b24: { language: 'en' } });
      const id = await portalId();
      await sendAdminAlert(deps(), id, { kind: 'sending_resumed' });
      expect(h.b24.notifications[0]?.MESSAGE).toBe(
        'MTS Belarus SMS: sending SMS has resumed; the queue is going out.',
      );
      await updatePortalSettings(h.db.conn, id, { language: 'ru' }, Date.now());
      await sendAdminAlert(deps(), id, { kind: 'text', text: { ru: 'Привет', en: 'Hello' } });
      expect(h.b24.notifications.at(-1)?.MESSAGE).toBe('Привет');
    });

    it('a portal installed before the admin was recorded: asks profile once and remembers', async () => {
      h = await startHarness({ dialect });
      const id = await portalId();
      await updatePortalSettings(h.db.conn, id, { adminUserId: undefined }, Date.now());
      const before = h.b24.restRequests.byMethod.profile ?? 0;
      await sendAdminAlert(deps(), id, { kind: 'sending_resumed' });
      await sendAdminAlert(deps(), id, { kind: 'sending_resumed' });
      expect((h.b24.restRequests.byMethod.profile ?? 0) - before).toBe(1);
      expect(portalSettings((await listPortals(h.db.conn))[0] as Portal).adminUserId).toBe(1);
    });

    it('stored tokens of a user who is not an administrator: a clear error, no notification', async () => {
      h = await startHarness({ dialect, install: false });
      const manager = h.b24.issueTokens(2);
      await upsertPortal(
        h.db.conn,
        {
          id: h.b24.memberId,
          domain: h.b24.domain,
          clientEndpoint: h.b24.restBase,
          serverEndpoint: h.b24.restBase,
          accessToken: manager.accessToken,
          refreshToken: manager.refreshToken,
          expiresAt: manager.expiresAt,
          applicationToken: h.b24.applicationToken,
        },
        Date.now(),
      );
      await expect(
        sendAdminAlert(deps(), h.b24.memberId, { kind: 'sending_resumed' }),
      ).rejects.toMatchObject({ code: 'B24_NO_ADMIN' });
      expect(h.b24.notifications).toEqual([]);
    });
  });
