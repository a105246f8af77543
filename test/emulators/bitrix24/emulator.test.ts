import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import qs from 'qs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.js';
import {
  type Bitrix24Emulator,
  startBitrix24Emulator,
} from '../../../src/emulators/bitrix24/index.js';

/** A tiny app stand-in that records every POST it receives. */
interface Received {
  path: string;
  contentType: string;
  raw: string;
  form: Record<string, unknown>;
}
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      raw += c;
    });
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        raw,
        form: qs.parse(raw) as Record<string, unknown>,
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

let emu: Bitrix24Emulator;
let token: string;

beforeEach(async () => {
  received.length = 0;
  emu = await startBitrix24Emulator({ domain: 'test.bitrix24.by', memberId: 'member-1' });
  token = emu.issueTokens().accessToken;
});

afterEach(async () => {
  await emu.close();
});

async function rest(
  method: string,
  params: Record<string, unknown> = {},
  auth: string | null = token,
  on: Bitrix24Emulator = emu,
) {
  const res = await fetch(`${on.url}/rest/${method}.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(auth === null ? params : { ...params, auth }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests walk arbitrary JSON answers
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function registerSender(code = 'mts_sms_by') {
  const r = await rest('messageservice.sender.add', {
    CODE: code,
    TYPE: 'SMS',
    HANDLER: `${receiverUrl}/b24/sms/key123`,
    NAME: 'MTS SMS',
  });
  expect(r.status).toBe(200);
}

describe('portal actions', () => {
  it('install posts event and auth[...] with fresh working tokens', async () => {
    const status = await emu.install(receiverUrl);
    expect(status).toBe(200);
    expect(received).toHaveLength(1);
    const got = received[0] as Received;
    expect(got.path).toBe('/b24/install');
    expect(got.contentType).toBe('application/x-www-form-urlencoded');
    expect(got.raw).toContain('auth%5Bmember_id%5D=member-1');
    const auth = got.form.auth as Record<string, string>;
    expect(got.form.event).toBe('ONAPPINSTALL');
    expect(auth).toMatchObject({
      domain: 'test.bitrix24.by',
      member_id: 'member-1',
      client_endpoint: `${emu.url}/rest/`,
      server_endpoint: `${emu.url}/rest/`,
      application_token: emu.applicationToken,
      expires_in: '3600',
      status: 'L',
    });
    expect(auth.access_token).toMatch(/^[0-9a-f]{32}$/);
    const info = await rest('app.info', {}, auth.access_token as string);
    expect(info.body.result.CODE).toBe('local.sandbox');
  });

  it('ONAPPUPDATE wipes providers and robots and carries a new application_token; ONAPPUNINSTALL sends no tokens and revokes them', async () => {
    await registerSender();
    const before = emu.applicationToken;
    await emu.install(receiverUrl, 'ONAPPUPDATE');
    expect(emu.senders).toHaveLength(0);
    const update = received[0]?.form as {
      auth: Record<string, string>;
      data: Record<string, string>;
    };
    expect(update.auth.application_token).toBe(emu.applicationToken);
    expect(emu.applicationToken).not.toBe(before);
    expect(update.data).toMatchObject({ VERSION: '1', PREVIOUS_VERSION: '1', LANGUAGE_ID: 'ru' });
    await emu.install(receiverUrl, 'ONAPPUNINSTALL');
    const auth = received[1]?.form.auth as Record<string, string>;
    expect(auth.access_token).toBeUndefined();
    expect(auth.application_token).toBe(emu.applicationToken);
    expect((await rest('app.info')).status).toBe(401);
  });

  it('profile says whose token it is: user 1 administers the portal, user 2 does not', async () => {
    expect((await rest('profile')).body.result).toMatchObject({ ID: '1', ADMIN: true });
    const manager = emu.issueTokens(2).accessToken;
    expect((await rest('profile', {}, manager)).body.result).toMatchObject({
      ID: '2',
      ADMIN: false,
    });
    // A refresh keeps the owner.
    const pair = emu.issueTokens(2);
    const res = await fetch(
      `${emu.url}/oauth/token/?grant_type=refresh_token&client_id=${emu.clientId}&client_secret=${emu.clientSecret}&refresh_token=${pair.refreshToken}`,
    );
    const fresh = (await res.json()) as { access_token: string };
    expect((await rest('profile', {}, fresh.access_token)).body.result.ADMIN).toBe(false);
  });

  it('sendFromCard posts the form Bitrix24 sends to the provider handler', async () => {
    await registerSender();
    const contactId = emu.addContact({ NAME: 'Ivan', PHONE: ['+375291234567'] });
    const sent = await emu.sendFromCard({ to: '+375291234567', text: 'Привет, Ivan' });
    expect(sent.status).toBe(200);
    expect(sent.messageId).toMatch(/^[0-9a-f]{32}$/);
    const got = received[0] as Received;
    expect(got.path).toBe('/b24/sms/key123');
    expect(got.form).toMatchObject({
      type: 'SMS',
      code: 'mts_sms_by',
      message_id: sent.messageId,
      message_to: '+375291234567',
      message_body: 'Привет, Ivan',
      properties: { phone_number: '+375291234567', message_text: 'Привет, Ivan' },
      module_id: 'crm',
      bindings: [{ OWNER_TYPE_ID: '3', OWNER_ID: String(contactId) }],
    });
    expect(Number(got.form.ts)).toBeGreaterThan(1_700_000_000);
    expect((got.form.auth as Record<string, string>).application_token).toBe(emu.applicationToken);
    expect(got.raw).toContain('bindings%5B0%5D%5BOWNER_TYPE_ID%5D=3');

    await emu.sendFromCard({ to: '+375291234567', text: 'x', withAuth: false });
    expect(received[1]?.form.auth).toBeUndefined();
  });

  it('status updates: only known message ids, only the five statuses', async () => {
    await registerSender();
    const { messageId } = await emu.sendFromCard({ to: '+375291234567', text: 'hi' });
    const ok = await rest('messageservice.message.status.update', {
      CODE: 'mts_sms_by',
      MESSAGE_ID: messageId,
      STATUS: 'delivered',
    });
    expect(ok.body.result).toBe(true);
    expect(emu.latestStatus(messageId)).toBe('delivered');
    expect(emu.statusUpdates[0]).toMatchObject({
      code: 'mts_sms_by',
      messageId,
      status: 'delivered',
    });

    const bad = await rest('messageservice.message.status.update', {
      CODE: 'mts_sms_by',
      MESSAGE_ID: messageId,
      STATUS: 'read',
    });
    expect(bad).toEqual({
      status: 400,
      body: {
        error: 'ERROR_MESSAGE_STATUS_INCORRECT',
        error_description: 'Message status incorrect!',
      },
    });
    const unknown = await rest('messageservice.message.status.update', {
      CODE: 'mts_sms_by',
      MESSAGE_ID: 'f'.repeat(32),
      STATUS: 'sent',
    });
    expect(unknown.body.error).toBe('ERROR_MESSAGE_NOT_FOUND');
    const wrongCode = await rest('messageservice.message.status.update', {
      CODE: 'other',
      MESSAGE_ID: messageId,
      STATUS: 'sent',
    });
    expect(wrongCode.body.error).toBe('ERROR_MESSAGE_NOT_FOUND');
  });

  it('runRobot posts event_token and auth with refresh_token; bizproc.event.send records the answer', async () => {
    const add = await rest('bizproc.robot.add', {
      CODE: 'mts_sms_send',
      HANDLER: `${receiverUrl}/b24/robot/key123`,
      NAME: 'Send SMS (MTS)',
      USE_SUBSCRIPTION: 'Y',
      PROPERTIES: {
        phone: { Name: 'Phone', Type: 'string' },
        text: { Name: 'Text', Type: 'text' },
      },
      RETURN_PROPERTIES: { status: { Name: 'Status', Type: 'string' } },
    });
    expect(add.body.result).toBe(true);
    expect(
      (
        await rest('bizproc.robot.add', {
          CODE: 'mts_sms_send',
          HANDLER: `${receiverUrl}/x`,
          NAME: 'x',
        })
      ).body.error,
    ).toBe('ERROR_ACTIVITY_ALREADY_INSTALLED');
    const run = await emu.runRobot({
      code: 'mts_sms_send',
      documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_5'],
      properties: { phone: '+375291234567', text: 'Hi' },
    });
    expect(run.status).toBe(200);
    const got = received[0] as Received;
    expect(got.form).toMatchObject({
      code: 'mts_sms_send',
      event_token: run.eventToken,
      document_id: ['crm', 'CCrmDocumentDeal', 'DEAL_5'],
      document_type: ['crm', 'CCrmDocumentDeal', 'DEAL'],
      properties: { phone: '+375291234567', text: 'Hi' },
      use_subscription: 'Y',
    });
    expect((got.form.auth as Record<string, string>).refresh_token).toMatch(/^[0-9a-f]{32}$/);
    const send = await rest('bizproc.event.send', {
      event_token: run.eventToken,
      return_values: { status: 'queued' },
    });
    expect(send.body.result).toBe(true);
    expect(emu.bizprocEvents[0]).toMatchObject({
      eventToken: run.eventToken,
      returnValues: { status: 'queued' },
      code: 'mts_sms_send',
    });
    expect((await rest('bizproc.event.send', { EVENT_TOKEN: 'nope' })).status).toBe(400);
  });
});

describe('the app page and its widgets', () => {
  it('openApp posts what Bitrix24 posts when it loads the app: query and form, a working AUTH_ID', async () => {
    const page = await emu.openApp(`${receiverUrl}/b24/app`, {
      placement: 'CRM_DEAL_DETAIL_TAB',
      options: { ID: '3473' },
      userId: 2,
    });
    expect(page.status).toBe(200);
    const got = received[0] as Received;
    const query = qs.parse(got.path.split('?')[1] ?? '');
    expect(query).toMatchObject({ DOMAIN: 'test.bitrix24.by', PROTOCOL: '1', LANG: 'ru' });
    expect(got.contentType).toBe('application/x-www-form-urlencoded');
    expect(got.form).toMatchObject({
      member_id: 'member-1',
      status: 'L',
      PLACEMENT: 'CRM_DEAL_DETAIL_TAB',
      PLACEMENT_OPTIONS: '{"ID":"3473"}',
      AUTH_EXPIRES: '3600',
    });
    // The AUTH_ID is the opening user's own working token.
    const auth = String(got.form.AUTH_ID);
    expect((await rest('profile', {}, auth)).body.result).toMatchObject({ ID: '2', ADMIN: false });
    expect((await rest('app.info', {}, auth)).body.result.CODE).toBe(emu.clientId);
  });

  it('placement.bind, .get and .unbind; binding the same handler twice is refused', async () => {
    const bind = () =>
      rest('placement.bind', {
        PLACEMENT: 'CRM_DEAL_DETAIL_TAB',
        HANDLER: `${receiverUrl}/b24/app`,
        TITLE: 'SMS',
      });
    expect((await bind()).body.result).toBe(true);
    const again = await bind();
    expect(again.status).toBe(400);
    expect(again.body.error_description).toBe('Handler already binded');
    expect((await rest('placement.bind', { HANDLER: `${receiverUrl}/x` })).body.error).toBe(
      'ERROR_ARGUMENT',
    );
    expect((await rest('placement.get')).body.result).toEqual([
      expect.objectContaining({ placement: 'CRM_DEAL_DETAIL_TAB', title: 'SMS' }),
    ]);
    expect(
      (await rest('placement.unbind', { PLACEMENT: 'CRM_DEAL_DETAIL_TAB' })).body.result,
    ).toEqual({ count: 1 });
    expect(emu.placements).toEqual([]);
  });
});

describe('REST faithfulness', () => {
  it('answers auth errors like Bitrix24', async () => {
    expect(await rest('app.info', {}, null)).toEqual({
      status: 401,
      body: { error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' },
    });
    expect((await rest('app.info', {}, 'nope')).body.error).toBe('invalid_token');
    emu.expireAllTokens();
    expect(await rest('app.info')).toEqual({
      status: 401,
      body: { error: 'expired_token', error_description: 'The access token provided has expired.' },
    });
  });

  it('OAuth refresh returns a new pair and spends the old refresh token', async () => {
    const pair = emu.issueTokens();
    const url = (rt: string) =>
      `${emu.url}/oauth/token/?${new URLSearchParams({ grant_type: 'refresh_token', client_id: emu.clientId, client_secret: emu.clientSecret, refresh_token: rt })}`;
    const first = await fetch(url(pair.refreshToken));
    const body = (await first.json()) as Record<string, string>;
    expect(first.status).toBe(200);
    expect(body.refresh_token).not.toBe(pair.refreshToken);
    expect(body.member_id).toBe('member-1');
    expect(body.domain).not.toBe('test.bitrix24.by');
    const again = await fetch(url(pair.refreshToken));
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('accepts form bodies and auth in the query string', async () => {
    const res = await fetch(`${emu.url}/rest/crm.contact.add?auth=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: qs.stringify({
        fields: { NAME: 'Form', PHONE: [{ VALUE: '+375441234567', VALUE_TYPE: 'MOBILE' }] },
      }),
    });
    expect(((await res.json()) as { result: number }).result).toBe(1);
    expect(emu.crm.get(3, 1)?.PHONE).toEqual([
      { ID: '1', VALUE: '+375441234567', VALUE_TYPE: 'MOBILE', TYPE_ID: 'PHONE' },
    ]);
  });

  it('lists: PHONE only when selected, boolean UF as 1/0 and Y/N, paging with next/total', async () => {
    const uf = await rest('crm.contact.userfield.add', {
      fields: { FIELD_NAME: 'SMS_CONSENT', USER_TYPE_ID: 'boolean' },
    });
    expect(typeof uf.body.result).toBe('number');
    expect(
      (
        await rest('crm.contact.userfield.add', {
          fields: { FIELD_NAME: 'SMS_CONSENT', USER_TYPE_ID: 'boolean' },
        })
      ).status,
    ).toBe(400);
    for (let i = 0; i < 60; i++) {
      emu.addContact({
        NAME: `N${i}`,
        PHONE: [`+3752900000${String(i).padStart(2, '0')}`],
        UF_CRM_SMS_CONSENT: i % 2 === 0 ? 'Y' : 'N',
      });
    }
    const page1 = await rest('crm.contact.list', { select: ['ID', 'NAME'] });
    expect(page1.body.result).toHaveLength(50);
    expect(page1.body.next).toBe(50);
    expect(page1.body.total).toBe(60);
    expect(page1.body.result[0]).toEqual({ ID: '1', NAME: 'N0' });
    const page2 = await rest('crm.contact.list', { select: ['ID'], start: 50 });
    expect(page2.body.result).toHaveLength(10);
    expect(page2.body.next).toBeUndefined();

    const withPhone = await rest('crm.contact.list', {
      select: ['ID', 'PHONE', 'UF_CRM_SMS_CONSENT'],
      filter: { '>ID': 58 },
      start: -1,
    });
    expect(withPhone.body.next).toBeUndefined();
    expect(withPhone.body.result).toEqual([
      {
        ID: '59',
        PHONE: [expect.objectContaining({ VALUE: '+375290000058', TYPE_ID: 'PHONE' })],
        UF_CRM_SMS_CONSENT: '1',
      },
      {
        ID: '60',
        PHONE: [expect.objectContaining({ VALUE: '+375290000059' })],
        UF_CRM_SMS_CONSENT: '0',
      },
    ]);
    const consenting = await rest('crm.contact.list', {
      filter: { UF_CRM_SMS_CONSENT: '1' },
      select: ['ID'],
    });
    expect(consenting.body.total).toBe(30);

    const item = await rest('crm.item.get', { entityTypeId: 3, id: 59 });
    expect(item.body.result.item).toMatchObject({ id: 59, name: 'N58', ufCrmSmsConsent: 'Y' });
    const items = await rest('crm.item.list', {
      entityTypeId: 3,
      filter: { ufCrmSmsConsent: 'N', '>id': 55 },
      select: ['id', 'ufCrmSmsConsent'],
    });
    expect(items.body.result.items).toEqual([
      { id: 56, ufCrmSmsConsent: 'N' },
      { id: 58, ufCrmSmsConsent: 'N' },
      { id: 60, ufCrmSmsConsent: 'N' },
    ]);
  });

  it('keeps DATE_MODIFY and filters on it; updates one phone by ID', async () => {
    const clock = new FakeClock();
    const e = await startBitrix24Emulator({ clock });
    try {
      const t = e.issueTokens().accessToken;
      const call = (m: string, p: Record<string, unknown>) => rest(m, p, t, e);
      const id = e.addContact({ NAME: 'A', PHONE: ['+375291111111', '+375292222222'] });
      e.addContact({ NAME: 'B' });
      const before = await call('crm.contact.get', { id });
      expect(before.body.result.DATE_MODIFY).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$/);
      const phones = before.body.result.PHONE as { ID: string }[];
      clock.advance(5_000);
      await call('crm.contact.update', {
        id,
        fields: { PHONE: [{ ID: phones[1]?.ID, VALUE: '+375293333333', VALUE_TYPE: 'MOBILE' }] },
      });
      const after = await call('crm.contact.get', { id });
      expect(after.body.result.PHONE.map((p: { VALUE: string }) => p.VALUE)).toEqual([
        '+375291111111',
        '+375293333333',
      ]);
      expect(after.body.result.DATE_MODIFY).not.toBe(before.body.result.DATE_MODIFY);
      const changed = await call('crm.contact.list', {
        filter: { '>DATE_MODIFY': before.body.result.DATE_MODIFY },
      });
      expect(changed.body.result.map((c: { ID: string }) => c.ID)).toEqual([String(id)]);
      const none = await call('crm.contact.list', {
        filter: { '>DATE_MODIFY': after.body.result.DATE_MODIFY },
      });
      expect(none.body.result).toEqual([]);
      // Removing a value: its ID with an empty VALUE.
      await call('crm.contact.update', {
        id,
        fields: { PHONE: [{ ID: phones[0]?.ID, VALUE: '' }] },
      });
      expect((await call('crm.contact.get', { id })).body.result.PHONE).toHaveLength(1);
    } finally {
      await e.close();
    }
  });

  it('finds duplicates by phone and adds timeline comments', async () => {
    const c = emu.addContact({ NAME: 'A', PHONE: ['+375 29 123-45-67'] });
    emu.addLead({ TITLE: 'L', PHONE: ['+375291234567'] });
    const dup = await rest('crm.duplicate.findbycomm', {
      type: 'PHONE',
      values: ['+375291234567'],
    });
    expect(dup.body.result).toEqual({ LEAD: [1], CONTACT: [c] });
    const none = await rest('crm.duplicate.findbycomm', {
      type: 'PHONE',
      values: ['+375440000000'],
      entity_type: 'CONTACT',
    });
    expect(none.body.result).toEqual([]);
    const tl = await rest('crm.timeline.comment.add', {
      fields: { ENTITY_ID: c, ENTITY_TYPE: 'contact', COMMENT: 'SMS delivered' },
    });
    expect(tl.body.result).toBe(1);
    expect(emu.timelineComments[0]).toMatchObject({ ENTITY_ID: c, COMMENT: 'SMS delivered' });
  });

  it('batch: $result references, errors per key, one request against the bucket', async () => {
    emu.setBucket(1, 2);
    const r = await rest('batch', {
      halt: 0,
      cmd: {
        add: `crm.contact.add?${qs.stringify({ fields: { NAME: 'B', PHONE: [{ VALUE: '+375297777777' }] } })}`,
        get: 'crm.contact.get?id=$result[add]',
        missing: 'crm.contact.get?id=999',
        list: 'crm.contact.list?select[]=ID',
        nope: 'no.such.method',
      },
    });
    expect(r.status).toBe(200);
    const res = r.body.result;
    expect(res.result.add).toBe(1);
    expect(res.result.get.NAME).toBe('B');
    expect(res.result_error.missing).toEqual({ error: '', error_description: 'Not found' });
    expect(res.result_error.nope.error).toBe('ERROR_METHOD_NOT_FOUND');
    expect(res.result_total).toEqual({ list: 1 });
    expect(Object.keys(res.result_time)).toEqual(['add', 'get', 'list']);
    expect(emu.restRequests.byMethod.batch).toBe(1);
    const tooMany: Record<string, string> = {};
    for (let i = 0; i < 51; i++) tooMany[`k${i}`] = 'app.info';
    expect((await rest('batch', { cmd: tooMany })).body.error).toBe('ERROR_BATCH_LENGTH_EXCEEDED');
  });

  it('leaky bucket: 503 QUERY_LIMIT_EXCEEDED past the burst', async () => {
    emu.setBucket(1, 3);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await rest('app.info')).status);
    expect(statuses).toEqual([200, 200, 200, 503, 503]);
    expect((await rest('app.info')).body.error).toBe('QUERY_LIMIT_EXCEEDED');
  });

  it('outage: 503 with an HTML body on REST and OAuth', async () => {
    emu.setOutage(true);
    const res = await fetch(`${emu.url}/rest/app.info.json?auth=${token}`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${emu.url}/oauth/token/?grant_type=refresh_token`)).status).toBe(503);
    emu.setOutage(false);
    expect((await rest('app.info')).status).toBe(200);
  });

  it('OPERATION_TIME_LIMIT: 429 with time.operating_reset_at, lifting by itself then', async () => {
    const clock = new FakeClock();
    const e = await startBitrix24Emulator({ clock });
    try {
      const t = e.issueTokens().accessToken;
      const until = clock.now() + 120_000;
      e.setMethodBlocked('crm.contact.list', true, until);
      const blocked = await rest('crm.contact.list', {}, t, e);
      expect(blocked.status).toBe(429);
      expect(blocked.body).toMatchObject({
        error: 'OPERATION_TIME_LIMIT',
        time: { operating_reset_at: until / 1000 },
      });
      // Other methods go on.
      expect((await rest('app.info', {}, t, e)).status).toBe(200);
      clock.advance(120_000);
      expect((await rest('crm.contact.list', {}, t, e)).status).toBe(200);
    } finally {
      await e.close();
    }
  });

  it('a plan without REST: 401 ACCESS_DENIED on every method', async () => {
    emu.setRestUnavailable(true);
    expect(await rest('app.info')).toMatchObject({
      status: 401,
      body: {
        error: 'ACCESS_DENIED',
        error_description: 'REST is available only on commercial plans.',
      },
    });
    emu.setRestUnavailable(false);
    expect((await rest('app.info')).status).toBe(200);
  });

  it('sender lifecycle: add, list, update, delete with documented errors', async () => {
    await registerSender();
    expect((await rest('messageservice.sender.list')).body.result).toEqual(['mts_sms_by']);
    expect((await rest('messageservice.sender.update', { CODE: 'mts_sms_by' })).body.error).toBe(
      'ERROR_SENDER_OTHER_PARAMS_REQUIRED',
    );
    expect(
      (
        await rest('messageservice.sender.update', {
          CODE: 'mts_sms_by',
          HANDLER: `${receiverUrl}/new`,
        })
      ).body.result,
    ).toBe(true);
    expect(emu.senders[0]?.HANDLER).toBe(`${receiverUrl}/new`);
    expect(
      (
        await rest('messageservice.sender.add', {
          CODE: 'bad code',
          TYPE: 'SMS',
          HANDLER: 'http://x',
          NAME: 'n',
        })
      ).body,
    ).toEqual({
      error: 'ERROR_SENDER_VALIDATION_FAILURE',
      error_description: 'Wrong sender code!',
    });
    expect((await rest('messageservice.sender.delete', { CODE: 'mts_sms_by' })).body.result).toBe(
      true,
    );
    expect((await rest('messageservice.sender.delete', { CODE: 'mts_sms_by' })).body.error).toBe(
      'ERROR_SENDER_NOT_FOUND',
    );
  });

  it('tokens expire after the TTL', async () => {
    const clock = new FakeClock();
    const e = await startBitrix24Emulator({ clock, accessTokenTtlSec: 60 });
    try {
      const t = e.issueTokens().accessToken;
      expect((await rest('app.info', {}, t, e)).status).toBe(200);
      clock.advance(59_999);
      expect((await rest('app.info', {}, t, e)).status).toBe(200);
      clock.advance(1);
      expect((await rest('app.info', {}, t, e)).body.error).toBe('expired_token');
    } finally {
      await e.close();
    }
  });
});
