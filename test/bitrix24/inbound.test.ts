import qs from 'qs';
import { describe, expect, it } from 'vitest';
import {
  parseInstallEvent,
  parseRobotRequest,
  parseSmsHandlerRequest,
  timingSafeTokenEqual,
} from '../../src/bitrix24/inbound.js';
import { ValidationError } from '../../src/errors.js';

/** What a route sees: the form body as Bitrix24 encodes it, parsed by qs. */
const form = (obj: Record<string, unknown>) => qs.parse(qs.stringify(obj));

const auth = {
  access_token: 'at1',
  expires: '1764000000',
  expires_in: '3600',
  scope: 'crm,messageservice',
  domain: 'example.bitrix24.by',
  server_endpoint: 'https://oauth.bitrix.info/rest/',
  status: 'L',
  client_endpoint: 'https://example.bitrix24.by/rest/',
  member_id: 'm1',
  user_id: '1',
  refresh_token: 'rt1',
  application_token: 'app1',
};

describe('parseInstallEvent', () => {
  it('reads an ONAPPINSTALL event with tokens', () => {
    const e = parseInstallEvent(
      form({
        event: 'ONAPPINSTALL',
        data: { VERSION: '1', LANGUAGE_ID: 'en' },
        ts: '1764000000',
        auth,
      }),
    );
    expect(e).toEqual({
      event: 'ONAPPINSTALL',
      source: 'event',
      memberId: 'm1',
      domain: 'example.bitrix24.by',
      clientEndpoint: 'https://example.bitrix24.by/rest/',
      serverEndpoint: 'https://oauth.bitrix.info/rest/',
      postedServerEndpoint: 'https://oauth.bitrix.info/rest/',
      applicationToken: 'app1',
      status: 'L',
      language: 'en',
      tokens: { accessToken: 'at1', refreshToken: 'rt1', expiresIn: 3600 },
      data: { VERSION: '1', LANGUAGE_ID: 'en' },
      ts: 1764000000,
    });
  });

  it('reads an uninstall without tokens', () => {
    const { access_token: _a, refresh_token: _r, ...rest } = auth;
    const e = parseInstallEvent(form({ event: 'onappuninstall', auth: rest }));
    expect(e.event).toBe('ONAPPUNINSTALL');
    expect(e.tokens).toBeUndefined();
  });

  it('reads the install page form (AUTH_ID / REFRESH_ID, DOMAIN from the query)', () => {
    const e = parseInstallEvent({
      ...form({
        AUTH_ID: 'at2',
        AUTH_EXPIRES: '3600',
        REFRESH_ID: 'rt2',
        member_id: 'm2',
        status: 'L',
      }),
      DOMAIN: 'b.bitrix24.by',
      PROTOCOL: '1',
      LANG: 'ru',
    });
    expect(e).toMatchObject({
      event: 'ONAPPINSTALL',
      source: 'installPage',
      memberId: 'm2',
      domain: 'b.bitrix24.by',
      clientEndpoint: 'https://b.bitrix24.by/rest/',
      serverEndpoint: 'https://oauth.bitrix.info/rest/',
      tokens: { accessToken: 'at2', refreshToken: 'rt2', expiresIn: 3600 },
      language: 'ru',
    });
    expect(e.applicationToken).toBeUndefined();
    expect(e.postedServerEndpoint).toBeUndefined();
  });

  it('names the missing field', () => {
    const { member_id: _m, ...rest } = auth;
    expect(() => parseInstallEvent(form({ event: 'ONAPPINSTALL', auth: rest }))).toThrow(
      /missing field "auth\[member_id\]"/,
    );
    expect(() => parseInstallEvent(form({ event: 'ONSOMETHING', auth }))).toThrow(/field "event"/);
    expect(() => parseInstallEvent({})).toThrow(ValidationError);
  });
});

describe('parseSmsHandlerRequest', () => {
  const base = {
    type: 'SMS',
    code: 'mts_sms_by',
    message_id: 'a'.repeat(32),
    message_to: '+375291234567',
    message_body: 'Привет',
    ts: '1764000000',
    properties: { phone_number: '+375291234567', message_text: 'Привет' },
    module_id: 'crm',
    bindings: [{ OWNER_TYPE_ID: '3', OWNER_ID: '17' }],
  };

  it('reads a message from a card with its author', () => {
    const r = parseSmsHandlerRequest(form({ ...base, auth }));
    expect(r).toMatchObject({
      type: 'SMS',
      code: 'mts_sms_by',
      messageId: 'a'.repeat(32),
      messageTo: '+375291234567',
      messageBody: 'Привет',
      moduleId: 'crm',
      ts: 1764000000,
      bindings: [{ ownerTypeId: 3, ownerId: 17 }],
      auth: {
        memberId: 'm1',
        applicationToken: 'app1',
        accessToken: 'at1',
        expiresIn: 3600,
        userId: 1,
      },
    });
  });

  it('accepts a message without auth and takes phone/text from properties when needed', () => {
    const { message_to: _t, message_body: _b, ...rest } = base;
    const r = parseSmsHandlerRequest(form(rest));
    expect(r.auth).toBeUndefined();
    expect(r.messageTo).toBe('+375291234567');
    expect(r.messageBody).toBe('Привет');
  });

  it('reads bizproc messages with document_id and many bindings (qs turns big lists into objects)', () => {
    const bindings = Array.from({ length: 25 }, (_, i) => ({
      OWNER_TYPE_ID: '3',
      OWNER_ID: String(i + 1),
    }));
    const r = parseSmsHandlerRequest(
      form({
        ...base,
        module_id: 'bizproc',
        bindings,
        document_id: ['crm', 'CCrmDocumentDeal', 'DEAL_5'],
      }),
    );
    expect(r.bindings).toHaveLength(25);
    expect(r.documentId).toEqual(['crm', 'CCrmDocumentDeal', 'DEAL_5']);
  });

  it('names missing fields', () => {
    const { message_id: _id, ...rest } = base;
    expect(() => parseSmsHandlerRequest(form(rest))).toThrow(/missing field "message_id"/);
    const { message_to: _t, properties: _p, ...noPhone } = base;
    expect(() => parseSmsHandlerRequest(form(noPhone))).toThrow(/missing field "message_to"/);
    expect(() => parseSmsHandlerRequest(form({ ...base, message_id: '' }))).toThrow(
      /empty field "message_id"/,
    );
  });
});

describe('parseRobotRequest', () => {
  it('reads a robot call', () => {
    const r = parseRobotRequest(
      form({
        workflow_id: 'wf1',
        code: 'mts_sms_send',
        document_id: ['crm', 'CCrmDocumentDeal', 'DEAL_5'],
        document_type: ['crm', 'CCrmDocumentDeal', 'DEAL'],
        event_token: 'wf1|A1_2_3_4|x.y',
        properties: { phone: '+375291234567', text: 'Hi', tags: ['a', 'b'] },
        use_subscription: 'Y',
        ts: '1764000000',
        auth,
      }),
    );
    expect(r).toMatchObject({
      code: 'mts_sms_send',
      eventToken: 'wf1|A1_2_3_4|x.y',
      workflowId: 'wf1',
      documentId: ['crm', 'CCrmDocumentDeal', 'DEAL_5'],
      documentType: ['crm', 'CCrmDocumentDeal', 'DEAL'],
      properties: { phone: '+375291234567', text: 'Hi', tags: ['a', 'b'] },
      useSubscription: true,
      auth: {
        memberId: 'm1',
        refreshToken: 'rt1',
        clientEndpoint: 'https://example.bitrix24.by/rest/',
      },
    });
  });

  it('names missing fields', () => {
    expect(() => parseRobotRequest(form({ code: 'x', document_id: ['crm'], auth }))).toThrow(
      /missing field "event_token"/,
    );
    expect(() =>
      parseRobotRequest(form({ code: 'x', event_token: 't', document_id: ['crm'] })),
    ).toThrow(/missing field "auth"/);
  });
});

describe('timingSafeTokenEqual', () => {
  it('compares secrets of any length', () => {
    expect(timingSafeTokenEqual('abc', 'abc')).toBe(true);
    expect(timingSafeTokenEqual('abc', 'abd')).toBe(false);
    expect(timingSafeTokenEqual('abc', 'abcd')).toBe(false);
    expect(timingSafeTokenEqual('', '')).toBe(false);
    expect(timingSafeTokenEqual(undefined, 'x')).toBe(false);
  });
});
