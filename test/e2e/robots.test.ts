import { afterEach, describe, expect, it } from 'vitest';
import { messageHistory } from '../../src/core/history.js';
import { ROBOT_PRESETS } from '../../src/core/presets.js';
import { addOptout } from '../../src/store/consent.js';
import { listPortals, updatePortalSettings } from '../../src/store/portals.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const ROBOT = 'mts_sms_robot';

function preset(id: string) {
  const p = ROBOT_PRESETS.find((x) => x.id === id);
  if (!p) throw new Error(`no preset ${id}`);
  return p;
}

/** Minsk wall time, as a Bitrix24 datetime property arrives. */
function minskText(t: number): string {
  const d = new Date(t + 3 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}.${p(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

for (const dialect of DIALECTS) {
  describe(`robots on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    async function robot(documentId: string[], properties: Record<string, unknown>) {
      const r = await h.b24.runRobot({ code: ROBOT, documentId, properties });
      expect(r.status).toBe(200);
      const event = await waitFor(
        () => h.b24.bizprocEvents.find((e) => e.eventToken === r.eventToken),
        'bizproc.event.send',
        15_000,
      );
      return event.returnValues as { status: string; message_id: string; error: string };
    }

    it('each scenario preset renders against seeded CRM records and goes out; the robot gets the answer', async () => {
      h = await startHarness({ dialect });
      const contact = h.b24.addContact({
        NAME: 'Анна',
        LAST_NAME: 'Ковалёва',
        PHONE: [
          { VALUE: '+375 17 200-00-00', VALUE_TYPE: 'WORK' },
          { VALUE: '8 029 123-45-67', VALUE_TYPE: 'MOBILE' },
        ],
      });
      const deal = h.b24.addDeal({
        TITLE: 'Кухня «Лофт»',
        OPPORTUNITY: 1234.5,
        CURRENCY_ID: 'BYN',
        CONTACT_ID: contact,
        UF_CRM_ERIP_LINK: 'https://pay.example.by/e/42',
        UF_CRM_REVIEW_LINK: 'https://example.by/r/42',
        UF_CRM_VISIT_AT: '25.11.2026 15:00',
      });
      const lead = h.b24.addLead({
        NAME: 'Павел',
        TITLE: 'Заявка с сайта',
        PHONE: [{ VALUE: '+375 (44) 765-43-21', VALUE_TYPE: 'MOBILE' }],
      });
      const dealDoc = ['crm', 'CCrmDocumentDeal', `DEAL_${deal}`];
      const leadDoc = ['crm', 'CCrmDocumentLead', `LEAD_${lead}`];
      const expected: [string, string[], string, string][] = [
        [
          'new-lead',
          leadDoc,
          '375447654321',
          'Павел, ваша заявка принята. Мы свяжемся с вами в течение часа.',
        ],
        [
          'invoice-erip',
          dealDoc,
          '375291234567',
          'Анна, счёт по заказу «Кухня «Лофт»» на 1 234,50 BYN выставлен. Оплата в ЕРИП: https://pay.example.by/e/42',
        ],
        [
          'deal-won',
          dealDoc,
          '375291234567',
          'Анна, спасибо за покупку! Будем рады отзыву: https://example.by/r/42',
        ],
        [
          'appointment-reminder',
          dealDoc,
          '375291234567',
          'Анна, напоминаем: вы записаны на 25.11.2026 15:00. Если планы изменились, позвоните нам.',
        ],
        [
          'missed-call',
          leadDoc,
          '375447654321',
          'Здравствуйте! Мы заметили ваш звонок и перезвоним в ближайшее время.',
        ],
      ];
      for (const [id, doc, phone, text] of expected) {
        const p = preset(id);
        const rv = await robot(doc, {
          text: p.template,
          message_type: p.messageType,
          ...(id === 'appointment-reminder' ? { send_at: minskText(Date.now() - 1000) } : {}),
        });
        expect(rv.status, id).toMatch(/^(sent|delivered)$/);
        expect(rv.error, id).toBe('');
        const atMts = h.mts.sent.find((s) => s.extraId === rv.message_id);
        expect(atMts, id).toMatchObject({ phone, text, alphaName: 'SANDBOX' });
      }
    });

    it("a robot's message carries the X-Request-Id of the robot call into its history", async () => {
      h = await startHarness({ dialect });
      const lead = h.b24.addLead({
        NAME: 'Павел',
        PHONE: [{ VALUE: '+375 (44) 765-43-21', VALUE_TYPE: 'MOBILE' }],
      });
      const call = await h.b24.runRobot({
        code: ROBOT,
        documentId: ['crm', 'CCrmDocumentLead', `LEAD_${lead}`],
        properties: { text: 'Заявка принята', message_type: 'transactional' },
      });
      expect(call.status).toBe(200);
      // The service made one (Bitrix24 sends none) and answered with it.
      expect(call.requestId).toMatch(/^[\w.:-]{8,128}$/);
      const rv = await waitFor(
        () => h.b24.bizprocEvents.find((e) => e.eventToken === call.eventToken),
        'bizproc.event.send',
        15_000,
      );
      const messageId = (rv.returnValues as { message_id: string }).message_id;
      const history = await messageHistory(h.db.conn, messageId);
      expect(history?.steps[0]).toMatchObject({
        kind: 'received',
        detail: { source: 'robot', requestId: call.requestId },
      });
    });

    it("a robot's SMS leaves a trace on the CRM card: a log entry by default, a comment or nothing when set", async () => {
      h = await startHarness({ dialect });
      const contact = h.b24.addContact({ NAME: 'Ivan', PHONE: ['+375291234567'] });
      const deal = h.b24.addDeal({ TITLE: 'Deal', CONTACT_ID: contact });
      const doc = ['crm', 'CCrmDocumentDeal', `DEAL_${deal}`];
      const sent = await robot(doc, { text: 'Your order is ready', message_type: 'transactional' });
      expect(sent.status).toMatch(/^(sent|delivered)$/);
      await waitFor(() => h.b24.timelineLogs.length === 1, 'the timeline log entry');
      expect(h.b24.timelineLogs[0]).toMatchObject({ entityTypeId: 2, entityId: deal });
      // Russian by default: status, number and text.
      expect(h.b24.timelineLogs[0]?.text).toMatch(
        /SMS (отправлено|доставлено) на \+375291234567: «Your order is ready»/,
      );
      const failed = await robot(doc, {
        text: 'Hi #DEAL_UF_CRM_NOPE#',
        message_type: 'transactional',
      });
      expect(failed.status).toBe('failed');
      await waitFor(() => h.b24.timelineLogs.length === 2, 'the failure trace');
      expect(h.b24.timelineLogs[1]?.text).toMatch(/не отправлено.*DEAL_UF_CRM_NOPE/);

      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      await updatePortalSettings(h.db.conn, portalId, { robotTrace: 'comment' }, Date.now());
      await robot(doc, { text: 'As a comment', message_type: 'transactional' });
      await waitFor(
        () => h.b24.timelineComments.some((c) => c.COMMENT.includes('As a comment')),
        'the timeline comment',
      );
      expect(h.b24.timelineComments.at(-1)).toMatchObject({ ENTITY_TYPE: 'deal', ENTITY_ID: deal });
      await updatePortalSettings(h.db.conn, portalId, { robotTrace: 'off' }, Date.now());
      const before = h.b24.timelineLogs.length + h.b24.timelineComments.length;
      await robot(doc, { text: 'No trace', message_type: 'transactional' });
      await new Promise((r) => setTimeout(r, 300));
      expect(h.b24.timelineLogs.length + h.b24.timelineComments.length).toBe(before);
    });

    it('an unknown or empty placeholder, or no mobile phone, is an error returned to the robot; nothing is sent', async () => {
      h = await startHarness({ dialect });
      const contact = h.b24.addContact({ NAME: 'Ivan', PHONE: ['+375291234567'] });
      const deal = h.b24.addDeal({ TITLE: 'Deal', CONTACT_ID: contact });
      const doc = ['crm', 'CCrmDocumentDeal', `DEAL_${deal}`];
      const unknown = await robot(doc, {
        text: 'Hi #CONTACT_NAME#, #DEAL_UF_CRM_NOPE# is ready',
        message_type: 'transactional',
      });
      expect(unknown.status).toBe('failed');
      expect(unknown.error).toContain('DEAL_UF_CRM_NOPE');
      const empty = await robot(doc, {
        text: 'Hi #CONTACT_LAST_NAME#',
        message_type: 'transactional',
      });
      expect(empty.status).toBe('failed');
      expect(empty.error).toContain('CONTACT_LAST_NAME');
      const landlineOnly = h.b24.addContact({ NAME: 'Office', PHONE: ['+375 17 123-45-67'] });
      const noMobile = await robot(['crm', 'CCrmDocumentContact', `CONTACT_${landlineOnly}`], {
        text: 'Hello',
        message_type: 'transactional',
      });
      expect(noMobile.status).toBe('failed');
      // In the portal's language (Russian by default), with the numbers found.
      expect(noMobile.error).toMatch(/нет мобильного номера.*landline/);
      expect(h.mts.sent).toHaveLength(0);
    });

    it('marketing goes only with consent and without an opt-out, with the marketing alpha name', async () => {
      h = await startHarness({ dialect });
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      const yes = h.b24.addContact({
        NAME: 'Yes',
        PHONE: ['+375291111111'],
        UF_CRM_SMS_CONSENT: '1',
      });
      const no = h.b24.addContact({
        NAME: 'No',
        PHONE: ['+375292222222'],
        UF_CRM_SMS_CONSENT: '0',
      });
      const opted = h.b24.addContact({
        NAME: 'Stop',
        PHONE: ['+375293333333'],
        UF_CRM_SMS_CONSENT: '1',
      });
      await addOptout(h.db.conn, { phone: '+375293333333', reason: 'replied STOP' }, Date.now());
      const run = (id: number) =>
        robot(['crm', 'CCrmDocumentContact', `CONTACT_${id}`], {
          text: 'Sale -20% for #CONTACT_NAME#',
          message_type: 'marketing',
        });
      const [a, b, c] = [await run(yes), await run(no), await run(opted)];
      expect(a.status).toMatch(/^(sent|delivered)$/);
      expect(b).toMatchObject({ status: 'failed' });
      expect(b.error).toMatch(/нет согласия/);
      expect(c.status).toBe('failed');
      expect(c.error).toMatch(/отказался от рекламных SMS/);
      // CRM marketing (module_id=sender) through the SMS provider: same rules.
      const m1 = await h.b24.sendFromCard({
        to: '+375291111111',
        text: 'Newsletter',
        moduleId: 'sender',
      });
      const m2 = await h.b24.sendFromCard({
        to: '+375292222222',
        text: 'Newsletter',
        moduleId: 'sender',
      });
      await waitFor(
        () =>
          h.b24.latestStatus(m1.messageId) === 'delivered' &&
          h.b24.latestStatus(m2.messageId) === 'failed',
        'marketing statuses',
      );
      expect(h.mts.sent.map((s) => [s.phone, s.alphaName])).toEqual([
        ['375291111111', 'SANDBOXMKT'],
        ['375291111111', 'SANDBOXMKT'],
      ]);
      expect(portalId).toBeTruthy();
    });

    it('a scheduled robot SMS waits in the outbox, survives a restart and goes at its time', async () => {
      h = await startHarness({ dialect });
      const contact = h.b24.addContact({ NAME: 'Olga', PHONE: ['+375297777777'] });
      const sendAt = Date.now() + 4000;
      const r = await h.b24.runRobot({
        code: ROBOT,
        documentId: ['crm', 'CCrmDocumentContact', `CONTACT_${contact}`],
        properties: {
          text: 'See you tomorrow, #CONTACT_NAME#',
          message_type: 'transactional',
          send_at: minskText(sendAt),
        },
      });
      expect(r.status).toBe(200);
      await waitFor(
        async () =>
          (await h.db.conn.db.selectFrom('messages').select('run_at').executeTakeFirst())?.run_at,
        'the queued message',
      );
      // Restart: a new service on the same database and port.
      await h.service.close();
      const { createService } = await import('../../src/service.js');
      const { loadConfig } = await import('../../src/config.js');
      const { silentLogger } = await import('../../src/log.js');
      const again = await createService({
        config: loadConfig(h.env),
        logger: silentLogger,
        conn: h.db.conn,
      });
      await again.app.listen({ port: Number(h.env.PORT), host: '127.0.0.1' });
      again.startWorkers();
      h.service = again;
      await waitFor(() => h.mts.sent.length === 1, 'the scheduled send', 15_000);
      expect(h.mts.requests.find((q) => q.kind === 'send')?.at).toBeGreaterThanOrEqual(
        Math.floor(sendAt / 1000) * 1000,
      );
      const event = await waitFor(
        () => h.b24.bizprocEvents.find((e) => e.eventToken === r.eventToken),
        'robot answer',
      );
      expect(event.returnValues).toMatchObject({ message_id: h.mts.sent[0]?.extraId });
      expect((event.returnValues as { status: string }).status).toMatch(/^(sent|delivered)$/);
    });
  });
}
