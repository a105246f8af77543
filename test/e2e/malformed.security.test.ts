import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPortals } from '../../src/store/portals.js';
import { type Harness, startHarness } from '../helpers/harness.js';

/**
 * Hostile or confused input: repeated query keys, arrays and objects where a scalar belongs,
 * wrong JSON shapes. Every one is answered 4xx (never a 500 that hides a crash), stores
 * nothing, and leaves the service healthy.
 */
describe('malformed input is refused with 4xx (security)', () => {
  let h: Harness;
  let sms: string;
  let robot: string;
  let dlr: string;
  const ADMIN = 'admin-token-for-security-tests';
  beforeAll(async () => {
    h = await startHarness({ dialect: 'sqlite', env: { ADMIN_TOKEN: ADMIN } });
    const [portal] = await listPortals(h.db.conn);
    sms = `${h.url}/b24/sms/${portal?.handler_key}`;
    robot = `${h.url}/b24/robot/${portal?.handler_key}`;
    dlr = `${h.url}/mts/dlr/${portal?.dlr_key}`;
  });
  afterAll(() => h.close());

  const FORM = 'application/x-www-form-urlencoded';
  const JSON_TYPE = 'application/json';
  const bearer = { authorization: `Bearer ${ADMIN}` };

  type Case = [what: string, req: () => [string, RequestInit]];
  const get = (url: string, headers: Record<string, string> = {}): [string, RequestInit] => [
    url,
    { headers },
  ];
  const post = (url: string, type: string, body: string): [string, RequestInit] => [
    url,
    { method: 'POST', headers: { 'content-type': type }, body },
  ];
  const smsForm = 'type=SMS&code=mts_sms_by&message_id=0123456789abcdef0123456789abcdef';

  const cases: Case[] = [
    ['repeated ?token on the status page', () => get(`${h.url}/?token=a&token=b`)],
    ['repeated ?token on the API', () => get(`${h.url}/api/overview?token=${ADMIN}&token=x`)],
    [
      'repeated ?state on /api/messages',
      () => get(`${h.url}/api/messages?state=a&state=b`, bearer),
    ],
    [
      'repeated ?limit on /api/messages',
      () => get(`${h.url}/api/messages?limit=1&limit=2`, bearer),
    ],
    ['repeated ?LANG on the app page', () => get(`${h.url}/b24/app?LANG=ru&LANG=en`)],
    ['repeated query keys on the SMS handler', () => post(`${sms}?a=1&a=2`, FORM, smsForm)],
    [
      'message_to as an array',
      () => post(sms, FORM, `${smsForm}&message_to[]=1&message_to[]=2&message_body=x`),
    ],
    [
      'message_body as an object',
      () => post(sms, FORM, `${smsForm}&message_to=%2B375291234567&message_body[a]=x`),
    ],
    [
      'auth[application_token] as an array',
      () =>
        post(
          sms,
          FORM,
          `${smsForm}&message_to=1&message_body=x&auth[member_id]=m&auth[application_token][]=t`,
        ),
    ],
    ['code as an array', () => post(sms, FORM, 'type=SMS&code[]=a&message_id=x')],
    [
      'bindings as a string',
      () => post(sms, FORM, `${smsForm}&message_to=1&message_body=x&bindings=oops`),
    ],
    ['SMS handler JSON with arrays', () => post(sms, JSON_TYPE, '{"type":["SMS"],"code":{}}')],
    ['SMS handler JSON that is an array', () => post(sms, JSON_TYPE, '[1,2,3]')],
    ['SMS handler JSON that is a string', () => post(sms, JSON_TYPE, '"SMS"')],
    [
      'install with event as an array',
      () => post(`${h.url}/b24/install`, FORM, 'event[]=ONAPPINSTALL'),
    ],
    [
      'install with auth[member_id] as an array',
      () =>
        post(
          `${h.url}/b24/install`,
          FORM,
          'event=ONAPPINSTALL&auth[member_id][]=a&auth[domain]=x.bitrix24.by',
        ),
    ],
    [
      'install with auth[domain] as an object',
      () =>
        post(
          `${h.url}/b24/install`,
          FORM,
          'event=ONAPPINSTALL&auth[member_id]=a&auth[domain][x]=y',
        ),
    ],
    [
      'install with auth as a string',
      () => post(`${h.url}/b24/install`, FORM, 'event=ONAPPINSTALL&auth=x'),
    ],
    [
      'install page form with AUTH_ID as an array',
      () => post(`${h.url}/b24/install`, FORM, 'AUTH_ID[]=a'),
    ],
    ['event JSON array', () => post(`${h.url}/b24/events`, JSON_TYPE, '[{"event":"ONAPPUPDATE"}]')],
    [
      'event with nested junk',
      () => post(`${h.url}/b24/events`, FORM, 'event[a][b][c][d][e][f]=1'),
    ],
    [
      'robot with auth as a string',
      () => post(robot, FORM, 'code=x&event_token=t&document_id[]=d&auth=x'),
    ],
    ['robot with event_token as an array', () => post(robot, FORM, 'code=x&event_token[]=t')],
    ['robot JSON null', () => post(robot, JSON_TYPE, 'null')],
    ['DLR: a number', () => post(dlr, JSON_TYPE, '123')],
    ['DLR: a string', () => post(dlr, JSON_TYPE, '"DELIVRD"')],
    ['DLR: an array of arrays', () => post(dlr, JSON_TYPE, '[[1],[2]]')],
    ['DLR: an array of nulls', () => post(dlr, JSON_TYPE, '[null,null]')],
    [
      'DLR: objects where scalars belong',
      () => post(dlr, JSON_TYPE, '{"message_id":{"a":1},"status":[2],"number":{"x":1}}'),
    ],
    ['DLR: a form body', () => post(dlr, FORM, 'message_id[]=a&status=2')],
  ];

  it.each(cases)('%s', async (_what, req) => {
    const [url, init] = req();
    const res = await fetch(url, init);
    const body = await res.text();
    expect(res.status, body).toBeGreaterThanOrEqual(400);
    expect(res.status, body).toBeLessThan(500);
  });

  it('stored nothing and is still healthy', async () => {
    const n = await h.db.conn.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(0);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
    expect((await h.b24.sendFromCard({ to: '+375291234567', text: 'still works' })).status).toBe(
      200,
    );
  });
});
