import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const readyz = async (url: string) =>
  (await (await fetch(`${url}/readyz`)).json()) as {
    ok: boolean;
    sending: { paused: { contractId: string; reason: string; code: string }[] };
  };

/**
 * An account-level refusal (credentials, balance) pauses the MTS account for every instance:
 * every message stays queued, only one probe goes at growing intervals, and sending resumes
 * by itself within seconds of a probe succeeding.
 */
for (const dialect of DIALECTS)
  describe(`paused MTS account on ${dialect}`, () => {
    let h: Harness;
    afterEach(() => h?.close());

    it('keeps messages queued, probes with one message, resumes on its own', async () => {
      h = await startHarness({ dialect, env: { MTS_PROBE_AFTER: '1', MTS_RATE_LIMIT: '20' } });
      const sends = () => h.mts.requests.filter((r) => r.kind === 'send');
      h.mts.failNext(2, 401);
      await h.b24.sendFromCard({ to: '+375291000001', text: 'first' });
      await waitFor(async () => (await readyz(h.url)).sending.paused.length === 1, 'the pause');
      const paused = await readyz(h.url);
      expect(paused.ok).toBe(true);
      expect(paused.sending.paused[0]).toMatchObject({ contractId: 'default' });
      expect(paused.sending.paused[0]?.reason).toMatch(/credentials/);
      const pausedAt = Date.now();
      // The installing admin is told once, in the portal's language (Russian by default).
      await waitFor(
        () => h.b24.notifications.some((n) => /приостановлена/.test(n.MESSAGE)),
        'the admin alert',
      );

      // Messages that arrive meanwhile wait: nothing but probes reaches MTS.
      for (let i = 2; i <= 4; i++)
        await h.b24.sendFromCard({ to: `+37529100000${i}`, text: `msg ${i}` });
      await waitFor(() => h.mts.sent.length === 4, 'all four after the resume', 15_000);
      const resumedAt = Date.now();
      // 1 refused send + 1 refused probe (after 1 s) + 1 probe that succeeds (2 s later) + 3.
      expect(sends()).toHaveLength(6);
      const failedAt = sends().map((r) => r.at);
      expect((failedAt[1] as number) - (failedAt[0] as number)).toBeGreaterThanOrEqual(900);
      expect((failedAt[2] as number) - (failedAt[1] as number)).toBeGreaterThanOrEqual(1900);
      expect(resumedAt - pausedAt).toBeLessThan(8000);
      expect((await readyz(h.url)).sending.paused).toEqual([]);
      // "Resumed" replaces "paused" (same TAG).
      await waitFor(
        () => h.b24.notifications.some((n) => /возобновлена/.test(n.MESSAGE)),
        'the resume alert',
      );
      expect(h.b24.notifications.filter((n) => /приостановлена/.test(n.MESSAGE))).toEqual([]);
      for (const s of h.mts.sent) expect(h.mts.countByExtraId(s.extraId as string)).toBe(1);
      const incidents = (await h.service.metrics.incidents.get()).values;
      expect(incidents.find((v) => v.labels.kind === 'contract-paused')?.value).toBe(1);
      expect(incidents.find((v) => v.labels.kind === 'contract-resumed')?.value).toBe(1);
    }, 30_000);
  });
