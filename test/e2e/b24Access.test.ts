import { afterEach, describe, expect, it } from 'vitest';
import { Bitrix24RestUnavailableError } from '../../src/bitrix24/errors.js';
import { listPortals } from '../../src/store/portals.js';
import { type Harness, startHarness } from '../helpers/harness.js';

/** A portal on a plan without REST (ACCESS_DENIED), as the administrator and /readyz see it. */
describe('Bitrix24 portal without REST', () => {
  let h: Harness;
  afterEach(() => h?.close());

  const readyz = async () => {
    const res = await fetch(`${h.url}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('registration fails with a message about the plan, /readyz lists the portal until REST works again', async () => {
    h = await startHarness({ dialect: 'sqlite' });
    expect((await readyz()).body.bitrix24).toBeUndefined();
    h.b24.setRestUnavailable(true);
    const err = await h.service.register().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Bitrix24RestUnavailableError);
    expect((err as Error).message).toMatch(/plan does not include the REST API/);

    const r = await readyz();
    // The instance still takes messages: ready, with the portal's problem shown.
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      ok: true,
      bitrix24: [
        {
          portal: h.b24.memberId,
          domain: h.b24.domain,
          problem: 'rest_unavailable',
          message: expect.stringMatching(/commercial plans.*b24-mts-sms register/s),
        },
      ],
    });

    h.b24.setRestUnavailable(false);
    await h.service.register();
    expect((await readyz()).body.bitrix24).toBeUndefined();
  });

  it('an install on such a portal is refused with the reason', async () => {
    h = await startHarness({ dialect: 'sqlite', install: false });
    h.b24.setRestUnavailable(true);
    expect(await h.b24.install(h.url)).toBe(403);
    expect(await listPortals(h.db.conn)).toEqual([]);
  });
});
