import { afterEach, describe, expect, it } from 'vitest';
import { intakeSms } from '../../src/core/intake.js';
import { listPortals } from '../../src/store/portals.js';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Lanes: transactional SMS go before marketing. The target: with 2,000 marketing
 * messages queued at 20/s, a card SMS reaches MTS within 3 s of its handler POST.
 */
for (const dialect of DIALECTS)
  describe(`lanes on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    it('a card SMS overtakes a 2,000-message marketing backlog and reaches MTS within 3 s', async () => {
      const RATE = 20;
      h = await startHarness({
        dialect,
        workers: false,
        env: { MTS_RATE_LIMIT: String(RATE) },
      });
      h.b24.addContact({ NAME: 'Vera', PHONE: ['+375291234567'], UF_CRM_SMS_CONSENT: '1' });
      const portalId = (await listPortals(h.db.conn))[0]?.id as string;
      const route = { contractId: 'default', vtStepMs: 1000 / RATE };
      const t0 = Date.now();
      for (let i = 0; i < 2000; i++)
        await intakeSms(
          h.db.conn,
          {
            portalId,
            b24MessageId: null,
            source: 'sender',
            kind: 'marketing',
            to: '+375291234567',
            text: `Black Friday ${i}`,
            alphaName: 'SANDBOXMKT',
            route,
          },
          t0,
        );
      h.service.startWorkers();
      await waitFor(() => h.mts.sent.length >= 30, 'the mailing under way', 10_000, 20);

      const posted = Date.now();
      const card = await h.b24.sendFromCard({ to: '+375447654321', text: 'Your code is 4711' });
      expect(card.status).toBe(200);
      await waitFor(
        () => h.mts.sent.some((s) => s.text === 'Your code is 4711'),
        'the card SMS at MTS',
        5000,
        10,
      );
      const arrived = h.mts.sent.find((s) => s.text === 'Your code is 4711')?.receivedAt as number;
      expect(arrived - posted).toBeLessThan(3000);
      // The mailing was not stopped for it, and went out in its order (a message whose
      // consent check outlasted its slot takes a later one, so allow a little reordering).
      const marketing = h.mts.sent.filter((s) => s.text.startsWith('Black Friday'));
      expect(marketing.length).toBeGreaterThan(30);
      const first = marketing.slice(0, 30).map((s) => Number(s.text.split(' ')[2]));
      expect(Math.max(...first)).toBeLessThan(45);
      // (The rate itself is measured with separate processes: instances.test.ts and bench/.)
    }, 90_000);
  });
