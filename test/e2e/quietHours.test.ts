import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { getMessageByB24Id } from '../../src/store/outbox.js';
import { listPortals } from '../../src/store/portals.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('marketing quiet hours (fake clock)', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('holds a marketing SMS that arrives at 22:30 Minsk until 09:00, while transactional goes at once', async () => {
    // 2026-11-24 19:30 UTC = 22:30 in Minsk (UTC+3).
    const clock = new FakeClock(Date.UTC(2026, 10, 24, 19, 30));
    h = await startHarness({
      dialect: 'sqlite',
      clock,
      env: { MARKETING_QUIET_HOURS: '21:00-09:00' },
    });
    h.b24.addContact({ NAME: 'Vera', PHONE: ['+375291234567'], UF_CRM_SMS_CONSENT: '1' });
    const portalId = (await listPortals(h.db.conn))[0]?.id as string;

    const marketing = await h.b24.sendFromCard({
      to: '+375291234567',
      text: 'Black Friday -30%',
      moduleId: 'sender',
    });
    const service = await h.b24.sendFromCard({
      to: '+375291234567',
      text: 'Your order has shipped',
    });
    await waitFor(() => h.mts.sent.length === 1, 'the transactional SMS');
    expect(h.mts.sent[0]?.text).toBe('Your order has shipped');
    const held = await getMessageByB24Id(h.db.conn, portalId, marketing.messageId);
    expect(held).toMatchObject({
      state: 'queued',
      kind: 'marketing',
      run_at: Date.UTC(2026, 10, 25, 6, 0),
    });
    expect(service.status).toBe(200);

    // 08:59 next morning: still held.
    clock.set(Date.UTC(2026, 10, 25, 5, 59));
    await settle();
    clock.advance(1000);
    await settle();
    expect(h.mts.sent).toHaveLength(1);

    // 09:01: released, with the marketing alpha name.
    clock.set(Date.UTC(2026, 10, 25, 6, 1));
    await waitFor(
      async () => {
        clock.advance(300);
        return h.mts.sent.length === 2;
      },
      'the marketing SMS after 09:00',
      10_000,
      100,
    );
    expect(h.mts.sent[1]).toMatchObject({ text: 'Black Friday -30%', alphaName: 'SANDBOXMKT' });
  });

  it('the MTS curfew by kind of day: Friday 20:30 waits for Saturday 11:00; a portal’s own schedule wins', async () => {
    // Friday 2026-11-27 20:30 in Minsk.
    const clock = new FakeClock(Date.UTC(2026, 10, 27, 17, 30));
    h = await startHarness({ dialect: 'sqlite', clock, env: { MARKETING_QUIET_HOURS: 'mts' } });
    h.b24.addContact({ NAME: 'Vera', PHONE: ['+375291234567'], UF_CRM_SMS_CONSENT: '1' });
    const portalId = (await listPortals(h.db.conn))[0]?.id as string;
    const marketing = () =>
      h.b24.sendFromCard({ to: '+375291234567', text: 'Weekend sale', moduleId: 'sender' });

    const friday = await marketing();
    expect(await getMessageByB24Id(h.db.conn, portalId, friday.messageId)).toMatchObject({
      state: 'queued',
      run_at: Date.UTC(2026, 10, 28, 8, 0), // Saturday 11:00 Minsk
    });

    // The portal's own setting (as `portal set --quiet-hours` stores it): weekends free.
    const { updatePortalSettings } = await import('../../src/store/portals.js');
    await updatePortalSettings(
      h.db.conn,
      portalId,
      { quietHours: 'workdays 20:00-09:00; weekends none' },
      clock.now(),
    );
    const again = await marketing();
    expect((await getMessageByB24Id(h.db.conn, portalId, again.messageId))?.run_at).toBe(
      Date.UTC(2026, 10, 27, 21, 0), // Saturday 00:00 Minsk
    );
  });
});
