import { randomBytes, randomInt } from 'node:crypto';
import qs from 'qs';
import type { EmulatorCore } from './core.js';
import { ENTITY_TYPE } from './crm.js';
import { PortalState } from './state.js';
import { hex32, type IssuedTokens } from './tokens.js';

/*
 * The portal's side of the protocol: the form POSTs Bitrix24 makes to the application
 * (install event, SMS provider handler, automation rule handler), PHP-style encoded.
 */

export type InstallEventName = 'ONAPPINSTALL' | 'ONAPPUPDATE' | 'ONAPPUNINSTALL';

export interface SendFromCardOptions {
  /** Recipient as typed in the card. */
  to: string;
  text: string;
  /** `crm` (card, default), `bizproc` (robot / workflow) or `sender` (marketing). */
  moduleId?: string;
  /** CRM bindings; default: the contact with that phone, if any (module `crm` only). */
  bindings?: { OWNER_TYPE_ID: number; OWNER_ID: number }[];
  /** Workflow document for module `bizproc`, e.g. `['crm', 'CCrmDocumentDeal', 'DEAL_5']`. */
  documentId?: string[];
  /** Provider code. Default `mts_sms_by`. */
  code?: string;
  /** Send `auth[...]` (a message with an author). Default true. */
  withAuth?: boolean;
  /** Default a fresh 32-hex id. */
  messageId?: string;
  /** POST here instead of the registered HANDLER (tests: a wrong key, another instance). */
  handlerUrl?: string;
  /** Send this `auth[application_token]` instead of the portal's (tests: a forged request). */
  applicationToken?: string;
}

export interface SendFromCardResult {
  messageId: string;
  /** HTTP status the handler answered. */
  status: number;
  body: string;
}

export interface RunRobotOptions {
  /** The robot's CODE. */
  code: string;
  /** Default `['crm', 'CCrmDocumentDeal', 'DEAL_1']`. */
  documentId?: string[];
  /** Default derived from documentId (`DEAL_5` → `DEAL`). */
  documentType?: string[];
  /** Robot properties as Bitrix24 evaluated them. */
  properties?: Record<string, unknown>;
}

export interface RunRobotResult {
  eventToken: string;
  status: number;
  body: string;
  /** The handler's answer's `X-Request-Id` (the id its log lines and the message's history show). */
  requestId: string | null;
}

function authFields(core: EmulatorCore, pair: IssuedTokens | undefined): Record<string, unknown> {
  const { identity } = core;
  return {
    ...(pair
      ? {
          access_token: pair.accessToken,
          expires: String(Math.floor(pair.expiresAt / 1000)),
          expires_in: String(pair.expiresIn),
          scope: 'crm,messageservice,bizproc,placement',
        }
      : {}),
    domain: identity.domain,
    server_endpoint: core.restBase,
    status: 'L',
    client_endpoint: core.restBase,
    member_id: identity.memberId,
    ...(pair ? { user_id: '1', refresh_token: pair.refreshToken } : {}),
    application_token: identity.applicationToken,
  };
}

async function postForm(
  url: string,
  form: Record<string, unknown>,
): Promise<{ status: number; body: string; requestId: string | null }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: qs.stringify(form, { arrayFormat: 'indices' }),
    signal: AbortSignal.timeout(30_000),
  });
  return {
    status: res.status,
    body: await res.text(),
    requestId: res.headers.get('x-request-id'),
  };
}

export interface InstallOptions {
  /** Whose tokens the event carries (default 1, the administrator; 2 is a manager). */
  userId?: number;
  /** Send no `auth[access_token]` / `auth[refresh_token]` (an event with no user behind it). */
  withoutTokens?: boolean;
}

/**
 * POSTs an install event to `${appBaseUrl}/b24/install`. `ONAPPUPDATE` first wipes the
 * app's providers and robots and issues a new application_token (as the portal does on
 * update, `common/events/on-app-update.md`); `ONAPPUNINSTALL` sends no tokens and then
 * revokes them. Returns the HTTP status.
 */
export async function install(
  core: EmulatorCore,
  appBaseUrl: string,
  event: InstallEventName,
  opts: InstallOptions = {},
): Promise<number> {
  // Events go to the handlers the app bound with event.bind (captured before the update
  // wipes them); the install itself goes to the installation path.
  const bound =
    event === 'ONAPPINSTALL' ? undefined : [...(core.state.eventHandlers.get(event) ?? [])][0];
  if (event === 'ONAPPINSTALL') core.appBaseUrl = appBaseUrl.replace(/\/+$/, '');
  if (event !== 'ONAPPINSTALL') core.state.wipeAppRegistrations();
  if (event === 'ONAPPUPDATE') core.identity.applicationToken = hex32();
  const pair =
    event === 'ONAPPUNINSTALL' || opts.withoutTokens ? undefined : core.tokens.issue(opts.userId);
  const form = {
    event,
    data: {
      VERSION: '1',
      ACTIVE: event === 'ONAPPUNINSTALL' ? 'N' : 'Y',
      INSTALLED: 'Y',
      LANGUAGE_ID: core.language,
      ...(event === 'ONAPPUPDATE' ? { PREVIOUS_VERSION: '1' } : {}),
    },
    ts: String(Math.floor(core.clock.now() / 1000)),
    auth: authFields(core, pair),
  };
  const { status } = await postForm(bound ?? `${appBaseUrl.replace(/\/+$/, '')}/b24/install`, form);
  if (event === 'ONAPPUNINSTALL') core.tokens.revokeAll();
  return status;
}

/**
 * Sends an SMS from a CRM card through a registered provider, exactly as Bitrix24 calls the
 * provider's HANDLER. The message id is remembered so status updates for it succeed.
 */
export async function sendFromCard(
  core: EmulatorCore,
  opts: SendFromCardOptions,
): Promise<SendFromCardResult> {
  const code = opts.code ?? 'mts_sms_by';
  const sender = core.state.senders.get(code);
  if (!sender) throw new Error(`Bitrix24 emulator: no SMS provider "${code}" is registered`);
  const moduleId = opts.moduleId ?? 'crm';
  const messageId = opts.messageId ?? hex32();
  core.state.messages.set(PortalState.messageKey(code, messageId), {
    code,
    messageId,
    to: opts.to,
    text: opts.text,
    moduleId,
    at: core.clock.now(),
  });
  const form: Record<string, unknown> = {
    type: 'SMS',
    code,
    message_id: messageId,
    message_to: opts.to,
    message_body: opts.text,
    ts: String(Math.floor(core.clock.now() / 1000)),
    properties: { phone_number: opts.to, message_text: opts.text },
    module_id: moduleId,
  };
  if (moduleId === 'crm') {
    const contactId = core.crm.findByComm('PHONE', [opts.to], ENTITY_TYPE.CONTACT).CONTACT?.[0];
    const bindings =
      opts.bindings ??
      (contactId ? [{ OWNER_TYPE_ID: ENTITY_TYPE.CONTACT, OWNER_ID: contactId }] : []);
    if (bindings.length > 0) {
      form.bindings = bindings.map((b) => ({
        OWNER_TYPE_ID: String(b.OWNER_TYPE_ID),
        OWNER_ID: String(b.OWNER_ID),
      }));
    }
  }
  if (moduleId === 'bizproc') {
    const documentId = opts.documentId ?? ['crm', 'CCrmDocumentDeal', 'DEAL_1'];
    form.workflow_id = workflowId();
    form.document_id = documentId;
    form.document_type = documentTypeOf(documentId);
  }
  if (opts.withAuth ?? true) {
    const auth = authFields(core, core.tokens.issue());
    if (opts.applicationToken !== undefined) auth.application_token = opts.applicationToken;
    form.auth = auth;
  }
  const { status, body } = await postForm(opts.handlerUrl ?? sender.HANDLER, form);
  return { messageId, status, body };
}

function workflowId(): string {
  return `${randomBytes(7).toString('hex')}.${randomInt(10_000_000, 99_999_999)}`;
}

/** `['crm', 'CCrmDocumentDeal', 'DEAL_5']` → `['crm', 'CCrmDocumentDeal', 'DEAL']`. */
function documentTypeOf(documentId: string[]): string[] {
  const [module = 'crm', entity = 'CCrmDocumentDeal', doc = 'DEAL_1'] = documentId;
  return [module, entity, doc.replace(/_\d+$/, '')];
}

/** Bitrix24 event tokens look like `<workflow id>|A<n>_<n>_<n>_<n>|<random>.<sha256 hex>`. */
function eventToken(wf: string): string {
  const n = () => randomInt(10_000, 99_999);
  return `${wf}|A${n()}_${n()}_${n()}_${n()}|${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('hex')}`;
}

/**
 * Runs a registered automation rule on a document: POSTs to its HANDLER with an event
 * token (remembered for `bizproc.event.send`) and `auth[...]` including refresh_token.
 */
export async function runRobot(core: EmulatorCore, opts: RunRobotOptions): Promise<RunRobotResult> {
  const robot = core.state.robots.get(opts.code);
  if (!robot) throw new Error(`Bitrix24 emulator: no automation rule "${opts.code}" is registered`);
  const documentId = opts.documentId ?? ['crm', 'CCrmDocumentDeal', 'DEAL_1'];
  const wf = workflowId();
  const token = eventToken(wf);
  core.state.eventTokens.set(token, { code: opts.code, documentId });
  const form = {
    workflow_id: wf,
    code: opts.code,
    document_id: documentId,
    document_type: opts.documentType ?? documentTypeOf(documentId),
    event_token: token,
    properties: opts.properties ?? {},
    use_subscription: robot.USE_SUBSCRIPTION === 'Y' ? 'Y' : 'N',
    timeout_duration: '0',
    ts: String(Math.floor(core.clock.now() / 1000)),
    auth: authFields(core, core.tokens.issue()),
  };
  const { status, body, requestId } = await postForm(robot.HANDLER, form);
  return { eventToken: token, status, body, requestId };
}

export interface OpenAppOptions {
  /** `DEFAULT` (the app's own page, default) or a widget placement, e.g. `CRM_DEAL_DETAIL_TAB`. */
  placement?: string;
  /** PLACEMENT_OPTIONS, e.g. `{ ID: '3473' }` for a CRM card tab. */
  options?: Record<string, string>;
  /** The user who opens it (default 1, the administrator; 2 is a manager). */
  userId?: number;
  /** Override what is posted (a forged or stale request): merged over the real fields. */
  override?: Record<string, string>;
}

export interface OpenAppResult {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * Opens the app's page, or one of its widgets, in the portal: a form POST to `url` the way
 * Bitrix24 loads an app into its iframe (SPEC §3; docs `settings/oauth/simple-way.md`,
 * `widgets/crm/detail-tab.md`): `DOMAIN`, `PROTOCOL`, `LANG` and `APP_SID` in the query;
 * `AUTH_ID` (a fresh access token of the user), `AUTH_EXPIRES`, `REFRESH_ID`, `member_id`,
 * `status`, `PLACEMENT`, `PLACEMENT_OPTIONS` (widgets only), `SERVER_ENDPOINT`,
 * `APPLICATION_TOKEN` and `APPLICATION_SCOPE` in the body.
 */
export function appOpenRequest(
  core: EmulatorCore,
  url: string,
  opts: OpenAppOptions = {},
): { action: string; fields: Record<string, string> } {
  const pair = core.tokens.issue(opts.userId);
  const placement = opts.placement ?? 'DEFAULT';
  const query = qs.stringify({
    DOMAIN: core.identity.domain,
    PROTOCOL: '1',
    LANG: core.language,
    APP_SID: hex32(),
  });
  const fields: Record<string, string> = {
    AUTH_ID: pair.accessToken,
    AUTH_EXPIRES: String(pair.expiresIn),
    REFRESH_ID: pair.refreshToken,
    SERVER_ENDPOINT: 'https://oauth.bitrix.info/rest/',
    member_id: core.identity.memberId,
    status: 'L',
    PLACEMENT: placement,
    ...(opts.options ? { PLACEMENT_OPTIONS: JSON.stringify(opts.options) } : {}),
    APPLICATION_TOKEN: core.identity.applicationToken,
    APPLICATION_SCOPE: 'crm,messageservice,bizproc,placement,im',
    ...opts.override,
  };
  return { action: `${url}${url.includes('?') ? '&' : '?'}${query}`, fields };
}

/** The same open made from a test: the POST, and the page it answered. */
export async function openApp(
  core: EmulatorCore,
  url: string,
  opts: OpenAppOptions = {},
): Promise<OpenAppResult> {
  const { action, fields } = appOpenRequest(core, url, opts);
  const res = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: qs.stringify(fields),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}
