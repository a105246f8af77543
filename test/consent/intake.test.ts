import { afterEach, describe, expect, it } from 'vitest';
import { getMessageByB24Id } from '../../src/store/outbox.js';
import { listPortals } from '../../src/store/portals.js';
import { runCli } from '../helpers/child.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';

/**
 * Marketing consent is checked at intake too: a number the CRM says "no" for, or an opted-out
 * number, fails at once with the reason — even inside quiet hours, where it would otherwise
 * wait until morning to be refused. (It is checked again right before sending.)
 */
for (const dialect of DIALECTS)
  describe(`consent at intake on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    it('a known "no" and an opt-out fail at once, in quiet hours; a "yes" waits for the morning', async () => {
      // Quiet all day: any marketing that is not refused waits.
      h = await startHarness({ dialect, env: { MARKETING_QUIET_HOURS: '00:00-23:59' } });
      h.b24.addContact({ NAME: 'No', PHONE: ['+375291110001'], UF_CRM_SMS_CONSENT: '0' });
      h.b24.addContact({ NAME: 'Yes', PHONE: ['+375291110002'], UF_CRM_SMS_CONSENT: '1' });
      h.b24.addContact({ NAME: 'Out', PHONE: ['+375291110003'], UF_CRM_SMS_CONSENT: '1' });
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      await h.service.consent.syncNow(portalId);
      const out = await runCli(['optout', 'add', '+375291110003', '--reason', 'STOP'], h.env);
      expect(out.code, out.output).toBe(0);

      const post = async (to: string) =>
        (await h.b24.sendFromCard({ to, text: 'Sale -30%', moduleId: 'sender' })).messageId;
      const no = await post('+375291110001');
      const yes = await post('+375291110002');
      const opted = await post('+375291110003');
      const row = (id: string) => getMessageByB24Id(h.db.conn, portalId, id);
      expect(await row(no)).toMatchObject({ state: 'failed', b24_status: 'failed' });
      expect((await row(no))?.fail_reason).toMatch(/consent/i);
      expect(await row(opted)).toMatchObject({ state: 'failed' });
      expect((await row(opted))?.fail_reason).toMatch(/opted out/i);
      expect(await row(yes)).toMatchObject({ state: 'queued' });
      expect(h.mts.sent).toHaveLength(0);
    }, 30_000);
  });
