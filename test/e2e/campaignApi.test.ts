import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'admin-secret-token-321';

describe('campaigns in the admin API', () => {
  let h: Harness;
  let id: number;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${h.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
    });
  const move = (campaign: number, m: string) =>
    api(`/api/campaigns/${campaign}/${m}`, { method: 'POST' });

  beforeAll(async () => {
    h = await startHarness({ dialect: 'sqlite', env: { ADMIN_TOKEN: TOKEN } });
    h.b24.addUserField('contact', 'SMS_CONSENT', 'boolean');
    for (let i = 0; i < 3; i++)
      h.b24.addContact({
        NAME: `Client ${i}`,
        PHONE: [{ VALUE: `+37529222000${i}`, VALUE_TYPE: 'MOBILE' }],
        UF_CRM_SMS_CONSENT: i < 2 ? '1' : '0',
      });
    const portalId = h.b24.memberId;
    const created = await h.service.campaigns.create({
      portalId,
      name: 'Winter sale',
      template: 'Sale -20% until Sunday',
      source: { kind: 'crm', entity: 'contact' },
    });
    id = created.id;
  });
  afterAll(() => h.close());

  it('lists campaigns with their estimate and progress; one by id', async () => {
    expect((await fetch(`${h.url}/api/campaigns`)).status).toBe(401);
    const list = (await (await api('/api/campaigns')).json()) as unknown[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id,
      name: 'Winter sale',
      state: 'draft',
      estimate: { recipients: 2, excluded: { no_consent: 1 }, parts: 2 },
      progress: { state: 'draft', recipients: 2, sent: 0 },
    });
    expect((await api(`/api/campaigns/${id}`)).status).toBe(200);
    expect((await api('/api/campaigns/999')).status).toBe(404);
    expect((await api('/api/campaigns/abc')).status).toBe(404);
  });

  it('start, pause, resume; a move that does not apply is a 409 in words', async () => {
    expect((await move(id, 'resume')).status).toBe(409);
    expect(((await (await move(id, 'resume')).json()) as { message: string }).message).toMatch(
      /is draft: it cannot become running/,
    );
    expect((await move(id, 'explode')).status).toBe(404);
    const started = await move(id, 'start');
    expect(started.status).toBe(200);
    expect(await started.json()).toMatchObject({ state: 'running' });
    await waitFor(
      async () => {
        const c = (await (await api(`/api/campaigns/${id}`)).json()) as {
          progress: { delivered: number };
        };
        return c.progress.delivered === 2 ? c : undefined;
      },
      'both delivered',
      15_000,
    );
    const done = (await (await api(`/api/campaigns/${id}`)).json()) as { state: string };
    expect(['running', 'done']).toContain(done.state);
  });
});
