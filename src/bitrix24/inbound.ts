import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../errors.js';

/*
 * What Bitrix24 POSTs to us, form-encoded with PHP-style keys (`auth[member_id]=…`,
 * `bindings[0][OWNER_ID]=…`). The schemas here run over the object that `qs.parse(body)`
 * makes of it, so every scalar arrives as a string.
 */

/** The default OAuth server of Bitrix24 cloud (`settings/oauth/index.md`). */
export const DEFAULT_SERVER_ENDPOINT = 'https://oauth.bitrix.info/rest/';

/** `auth[...]` of an event, SMS handler or robot call (`_includes/auth-params-in-events.md`). */
export interface InboundAuth {
  memberId: string;
  accessToken?: string;
  refreshToken?: string;
  /** Seconds until `accessToken` expires. */
  expiresIn?: number;
  domain?: string;
  serverEndpoint?: string;
  clientEndpoint?: string;
  applicationToken?: string;
  /** Application status: `L` local, `F` free, `P` paid, `T` trial… */
  status?: string;
  scope?: string;
  userId?: number;
}

export type InstallEventName = 'ONAPPINSTALL' | 'ONAPPUPDATE' | 'ONAPPUNINSTALL';

/** An install / update / uninstall of the app on a portal. */
export interface InstallEvent {
  event: InstallEventName;
  /** `event`: the install callback / event POST (`auth[...]`); `installPage`: the install page's `AUTH_ID` form. */
  source: 'event' | 'installPage';
  memberId: string;
  /** The portal's domain, e.g. `example.bitrix24.by`. */
  domain: string;
  /** The portal's REST base; from `auth[client_endpoint]`, else `{protocol}://{domain}/rest/`. */
  clientEndpoint: string;
  /** OAuth server REST base; from `auth[server_endpoint]`, else `https://oauth.bitrix.info/rest/`. */
  serverEndpoint: string;
  /** `auth[server_endpoint]` exactly as posted (absent from the install page form). Untrusted. */
  postedServerEndpoint?: string;
  /** The portal's language: `data[LANGUAGE_ID]` of an event, `LANG` of the install page (`ru`, `en`…). */
  language?: string;
  /** Sent with events; the install page does not send one. */
  applicationToken?: string;
  status?: string;
  /** Present when the portal sent a token pair (install and update do; uninstall does not). */
  tokens?: { accessToken: string; refreshToken: string; expiresIn: number };
  /** `data[...]` of the event (VERSION, ACTIVE, INSTALLED, LANGUAGE_ID…). */
  data?: Record<string, unknown>;
  /** `ts` of the event, epoch seconds. */
  ts?: number;
}

/** A CRM entity a message is bound to (`bindings[n]`). */
export interface SmsBinding {
  /** CRM entity type id: 1 lead, 2 deal, 3 contact, 4 company… */
  ownerTypeId: number;
  ownerId: number;
}

/** A message Bitrix24 asks our SMS provider to send (`messageservice-sender-add.md`, "handler"). */
export interface SmsHandlerRequest {
  type: string;
  /** Our provider code, e.g. `mts_sms_by`. */
  code: string;
  /** Bitrix24's id of the message (32 hex); the key for status updates and deduplication. */
  messageId: string;
  /** Recipient as Bitrix24 has it (`message_to`, else `properties[phone_number]`). */
  messageTo: string;
  /** Text (`message_body`, else `properties[message_text]`). */
  messageBody: string;
  /** `crm` (card), `bizproc` (robot / workflow), `sender` (CRM marketing)… */
  moduleId?: string;
  /** Epoch seconds of the request. */
  ts?: number;
  properties: Record<string, string>;
  /** CRM bindings (module `crm`); empty otherwise. */
  bindings: SmsBinding[];
  /** Workflow document (module `bizproc`), e.g. `['crm', 'CCrmDocumentDeal', 'DEAL_5']`. */
  documentId?: string[];
  documentType?: string[];
  workflowId?: string;
  /** Only when the message has an author. */
  auth?: InboundAuth;
}

/** A call of our automation rule (`bizproc.robot.add` HANDLER). */
export interface RobotRequest {
  /** The robot's CODE. */
  code: string;
  /** Pass back to `bizproc.event.send`. */
  eventToken: string;
  workflowId?: string;
  /** e.g. `['crm', 'CCrmDocumentDeal', 'DEAL_5']`. */
  documentId: string[];
  /** e.g. `['crm', 'CCrmDocumentDeal', 'DEAL']`. */
  documentType: string[];
  /** Robot properties, already evaluated by Bitrix24. */
  properties: Record<string, unknown>;
  useSubscription?: boolean;
  ts?: number;
  auth: InboundAuth;
}

const str = z.string();
const optStr = z.string().optional();
/**
 * A portal's domain as Bitrix24 posts it: a host name, optionally with a port — nothing else
 * (it ends up in URLs and in the app page's `frame-ancestors`).
 */
export const PORTAL_DOMAIN =
  /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i;
const domainStr = z
  .string()
  .regex(PORTAL_DOMAIN, 'expected a host name such as company.bitrix24.by');
/** A form number: `"3600"` → 3600; empty or missing → undefined. */
const optNum = z
  .union([z.string(), z.number()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `expected a number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });
/** `x[0]=a&x[1]=b` parses to an array, but past qs's array limit to an object keyed "0", "1"… */
const phpList = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.values(v) : v),
    z.array(item),
  );
const record = z.record(z.string(), z.unknown());

const authSchema = z.object({
  member_id: str.min(1),
  access_token: optStr,
  refresh_token: optStr,
  expires_in: optNum,
  domain: optStr,
  server_endpoint: optStr,
  client_endpoint: optStr,
  application_token: optStr,
  status: optStr,
  scope: optStr,
  user_id: optNum,
});

function toAuth(a: z.infer<typeof authSchema>): InboundAuth {
  const out: InboundAuth = { memberId: a.member_id };
  if (a.access_token) out.accessToken = a.access_token;
  if (a.refresh_token) out.refreshToken = a.refresh_token;
  if (a.expires_in !== undefined) out.expiresIn = a.expires_in;
  if (a.domain) out.domain = a.domain;
  if (a.server_endpoint) out.serverEndpoint = a.server_endpoint;
  if (a.client_endpoint) out.clientEndpoint = a.client_endpoint;
  if (a.application_token) out.applicationToken = a.application_token;
  if (a.status) out.status = a.status;
  if (a.scope) out.scope = a.scope;
  if (a.user_id !== undefined) out.userId = a.user_id;
  return out;
}

/** `['auth', 'member_id']` → `auth[member_id]`, the way the field is named on the wire. */
function fieldName(path: PropertyKey[]): string {
  return path.map((p, i) => (i === 0 ? String(p) : `[${String(p)}]`)).join('');
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const p of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = fieldName(issue.path);
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      return `missing field "${name}"`;
    }
    if (issue.code === 'too_small' && valueAt(input, issue.path) === '') {
      return `empty field "${name}"`;
    }
    return name ? `field "${name}": ${issue.message}` : issue.message;
  });
  throw new ValidationError(`${what}: ${problems.join('; ')}`, 'B24_BAD_REQUEST');
}

const installEventSchema = z.object({
  event: z.preprocess(
    (v) => (typeof v === 'string' ? v.toUpperCase() : v),
    z.enum(['ONAPPINSTALL', 'ONAPPUPDATE', 'ONAPPUNINSTALL']),
  ),
  auth: authSchema.extend({ domain: domainStr }),
  data: record.optional(),
  ts: optNum,
});

/** The install page form (`AUTH_ID`…); `DOMAIN`/`PROTOCOL` come in its query string. */
const installPageSchema = z.object({
  AUTH_ID: str.min(1),
  REFRESH_ID: str.min(1),
  AUTH_EXPIRES: optNum,
  member_id: str.min(1),
  DOMAIN: domainStr,
  PROTOCOL: optStr,
  LANG: optStr,
  status: optStr,
});

export interface ParseInstallOptions {
  /** OAuth server to assume when the portal does not name one. Default `https://oauth.bitrix.info/rest/`. */
  defaultServerEndpoint?: string;
}

/**
 * Parses an install / update / uninstall POST: either the event form
 * (`event=ONAPPINSTALL&auth[access_token]=…`) or the install page form
 * (`AUTH_ID`, `REFRESH_ID`, `AUTH_EXPIRES`, `member_id`, plus `DOMAIN`, `PROTOCOL` from the
 * query string: pass body and query merged). Throws ValidationError naming missing fields.
 */
export function parseInstallEvent(input: unknown, opts: ParseInstallOptions = {}): InstallEvent {
  const defaultServer = opts.defaultServerEndpoint ?? DEFAULT_SERVER_ENDPOINT;
  const obj = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  if (obj.event === undefined && obj.AUTH_ID !== undefined) {
    const p = parseWith(installPageSchema, obj, 'Bitrix24 install page request');
    const scheme = p.PROTOCOL === '0' ? 'http' : 'https';
    return {
      event: 'ONAPPINSTALL',
      source: 'installPage',
      memberId: p.member_id,
      domain: p.DOMAIN,
      clientEndpoint: `${scheme}://${p.DOMAIN}/rest/`,
      serverEndpoint: defaultServer,
      ...(p.status ? { status: p.status } : {}),
      ...(p.LANG ? { language: p.LANG } : {}),
      tokens: {
        accessToken: p.AUTH_ID,
        refreshToken: p.REFRESH_ID,
        expiresIn: p.AUTH_EXPIRES ?? 3600,
      },
    };
  }
  const e = parseWith(installEventSchema, obj, 'Bitrix24 install event');
  const a = e.auth;
  const out: InstallEvent = {
    event: e.event,
    source: 'event',
    memberId: a.member_id,
    domain: a.domain,
    clientEndpoint: a.client_endpoint || `https://${a.domain}/rest/`,
    serverEndpoint: a.server_endpoint || defaultServer,
  };
  if (a.server_endpoint) out.postedServerEndpoint = a.server_endpoint;
  if (a.application_token) out.applicationToken = a.application_token;
  if (a.status) out.status = a.status;
  const language = e.data?.LANGUAGE_ID;
  if (typeof language === 'string' && language) out.language = language;
  if (a.access_token && a.refresh_token) {
    out.tokens = {
      accessToken: a.access_token,
      refreshToken: a.refresh_token,
      expiresIn: a.expires_in ?? 3600,
    };
  }
  if (e.data) out.data = e.data;
  if (e.ts !== undefined) out.ts = e.ts;
  return out;
}

const smsSchema = z.object({
  type: str.min(1),
  code: str.min(1),
  message_id: str.min(1),
  message_to: optStr,
  message_body: optStr,
  module_id: optStr,
  ts: optNum,
  properties: z.record(z.string(), z.unknown()).optional(),
  bindings: phpList(
    z.object({ OWNER_TYPE_ID: z.coerce.number().int(), OWNER_ID: z.coerce.number().int() }),
  ).optional(),
  document_id: phpList(str).optional(),
  document_type: phpList(str).optional(),
  workflow_id: optStr,
  auth: authSchema.optional(),
});

/**
 * Parses a message Bitrix24 hands to our SMS provider. `message_to` / `message_body` fall
 * back to `properties[phone_number]` / `properties[message_text]`. Throws ValidationError
 * naming the missing field.
 */
export function parseSmsHandlerRequest(input: unknown): SmsHandlerRequest {
  const r = parseWith(smsSchema, input, 'Bitrix24 SMS handler request');
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.properties ?? {}))
    if (typeof v === 'string') properties[k] = v;
  const messageTo = r.message_to ?? properties.phone_number;
  const messageBody = r.message_body ?? properties.message_text;
  const missing = [
    ...(messageTo === undefined ? ['"message_to"'] : []),
    ...(messageBody === undefined ? ['"message_body"'] : []),
  ];
  if (messageTo === undefined || messageBody === undefined) {
    throw new ValidationError(
      `Bitrix24 SMS handler request: missing field ${missing.join(' and ')}`,
      'B24_BAD_REQUEST',
    );
  }
  const out: SmsHandlerRequest = {
    type: r.type,
    code: r.code,
    messageId: r.message_id,
    messageTo,
    messageBody,
    properties,
    bindings: (r.bindings ?? []).map((b) => ({
      ownerTypeId: b.OWNER_TYPE_ID,
      ownerId: b.OWNER_ID,
    })),
  };
  if (r.module_id) out.moduleId = r.module_id;
  if (r.ts !== undefined) out.ts = r.ts;
  if (r.document_id) out.documentId = r.document_id;
  if (r.document_type) out.documentType = r.document_type;
  if (r.workflow_id) out.workflowId = r.workflow_id;
  if (r.auth) out.auth = toAuth(r.auth);
  return out;
}

const robotSchema = z.object({
  code: str.min(1),
  event_token: str.min(1),
  workflow_id: optStr,
  document_id: phpList(str).refine((a) => a.length > 0, 'expected a document id'),
  document_type: phpList(str).optional(),
  properties: record.optional(),
  use_subscription: optStr,
  ts: optNum,
  auth: authSchema,
});

/** Parses a call of our automation rule. Throws ValidationError naming the missing field. */
export function parseRobotRequest(input: unknown): RobotRequest {
  const r = parseWith(robotSchema, input, 'Bitrix24 robot request');
  const out: RobotRequest = {
    code: r.code,
    eventToken: r.event_token,
    documentId: r.document_id,
    documentType: r.document_type ?? [],
    properties: r.properties ?? {},
    auth: toAuth(r.auth),
  };
  if (r.workflow_id) out.workflowId = r.workflow_id;
  if (r.use_subscription) out.useSubscription = r.use_subscription === 'Y';
  if (r.ts !== undefined) out.ts = r.ts;
  return out;
}

/**
 * Constant-time comparison of two secrets (path keys, `application_token`). Both sides are
 * hashed first so neither the content nor the length leaks through timing. False when
 * either is missing or empty.
 */
export function timingSafeTokenEqual(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
