import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import qs from 'qs';
import type { PortalConnection } from '../../bitrix24/types.js';
import { type Clock, systemClock } from '../../clock.js';
import type { Logger } from '../../log.js';
import { EmulatorCore } from './core.js';
import { type CrmStore, ENTITY_TYPE, type MultiFieldInput } from './crm.js';
import { registerOAuth } from './oauth.js';
import {
  type InstallEventName,
  type InstallOptions,
  install,
  type OpenAppOptions,
  type OpenAppResult,
  openApp,
  type RunRobotOptions,
  type RunRobotResult,
  runRobot,
  type SendFromCardOptions,
  type SendFromCardResult,
  sendFromCard,
} from './portalActions.js';
import { registerPortalPage } from './portalPage.js';
import { registerRest } from './rest.js';
import {
  type BizprocEventRecord,
  type MessageRecord,
  type NotificationRecord,
  type PlacementRecord,
  PortalState,
  type RobotRecord,
  type SenderRecord,
  type StatusUpdateRecord,
  type TimelineCommentRecord,
  type TimelineLogRecord,
  type UserFieldRecord,
} from './state.js';
import { hex32, type IssuedTokens } from './tokens.js';

export type {
  InstallEventName,
  InstallOptions,
  RunRobotOptions,
  RunRobotResult,
  SendFromCardOptions,
  SendFromCardResult,
};
export { ENTITY_TYPE };

export interface Bitrix24EmulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** The local application's client_id. Default `local.sandbox`. */
  clientId?: string;
  /** Default `sandbox-secret`. */
  clientSecret?: string;
  /** The portal's member_id. Default 32 random hex characters. */
  memberId?: string;
  /** The portal's domain. Default `sandbox.bitrix24.by`. */
  domain?: string;
  /** The app's application_token on this portal. Default 32 random hex characters. */
  applicationToken?: string;
  /** The portal's language as app events and `app.info` report it. Default `ru`. */
  language?: string;
  /** Access token lifetime. Default 3600 s. */
  accessTokenTtlSec?: number;
  /** The portal's leaky bucket. Default `{rate: 2, burst: 50}` (limits.md, non-Enterprise). */
  bucket?: { rate: number; burst: number };
  /** Default: no logging. */
  logger?: Logger;
  /** Time source for token expiry, the bucket and dates. Default the system clock. */
  clock?: Clock;
}

/** Fields a seeding helper takes: Bitrix24 names; `PHONE` may be a list of plain numbers. */
export type SeedFields = Record<string, unknown> & {
  PHONE?: MultiFieldInput[];
  EMAIL?: MultiFieldInput[];
};

/** A local Bitrix24 portal with its OAuth server, and the portal's side of the app protocol. */
export interface Bitrix24Emulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `{url}/rest/`: client_endpoint and server_endpoint alike. */
  readonly restBase: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly memberId: string;
  readonly domain: string;
  /** The app's current application_token (a new one after each ONAPPUPDATE). */
  readonly applicationToken: string;

  /** Issues a fresh token pair, as an install would: the administrator's unless `userId` says (2: a manager). */
  issueTokens(userId?: number): IssuedTokens;
  /** A connection with fresh tokens, for seeding a TokenStore (portalId = memberId). */
  connection(): PortalConnection;

  /** POSTs an install event to `${appBaseUrl}/b24/install` (others to the bound handler); returns the HTTP status. */
  install(appBaseUrl: string, event?: InstallEventName, opts?: InstallOptions): Promise<number>;
  /** Sends an SMS from a CRM card through a registered provider's HANDLER. */
  sendFromCard(opts: SendFromCardOptions): Promise<SendFromCardResult>;
  /** Runs a registered automation rule: POSTs to its HANDLER with an event token. */
  runRobot(opts: RunRobotOptions): Promise<RunRobotResult>;
  /** Opens the app's page (or a widget such as a CRM card tab) as Bitrix24 does: a form POST to `url`. */
  openApp(url: string, opts?: OpenAppOptions): Promise<OpenAppResult>;
  /** Makes the portal know a message id (as if sent through provider `code`). */
  registerMessage(code: string, messageId: string, to?: string, text?: string): void;

  /** The CRM store, for direct reads and writes. */
  readonly crm: CrmStore;
  addContact(fields: SeedFields): number;
  addLead(fields: SeedFields): number;
  addDeal(fields: SeedFields): number;
  addCompany(fields: SeedFields): number;
  /** Adds a record of any CRM type (smart processes too); Bitrix24 upper-case names. */
  addItem(entityTypeId: number, fields: SeedFields): number;
  /** Adds a user field as `crm.<entity>.userfield.add` would; returns its full name. */
  addUserField(
    entity: 'contact' | 'lead' | 'deal' | 'company',
    fieldName: string,
    userTypeId: string,
  ): string;

  /** Accepted `messageservice.message.status.update` calls, in order. */
  readonly statusUpdates: readonly StatusUpdateRecord[];
  /** The last status set for a message id, if any. */
  latestStatus(messageId: string): string | undefined;
  /** REST hits (each batch counts once, as 'batch'), including rejected ones. */
  readonly restRequests: { total: number; byMethod: Record<string, number> };
  /** Hits on the OAuth token endpoint. */
  readonly oauthRequests: number;
  readonly senders: readonly SenderRecord[];
  readonly robots: readonly RobotRecord[];
  /** Widgets bound with `placement.bind`. */
  readonly placements: readonly PlacementRecord[];
  /** Handlers bound with `event.bind`, as `{event, handler}`. */
  readonly eventHandlers: readonly { event: string; handler: string }[];
  readonly messages: readonly MessageRecord[];
  readonly timelineComments: readonly TimelineCommentRecord[];
  /** `crm.timeline.logmessage.add` entries. */
  readonly timelineLogs: readonly TimelineLogRecord[];
  readonly bizprocEvents: readonly BizprocEventRecord[];
  readonly userFields: readonly UserFieldRecord[];
  /** System notifications users have (`im.notify.system.add`; a TAG replaces earlier ones). */
  readonly notifications: readonly NotificationRecord[];

  /** While on, every REST and OAuth request answers 503 with an HTML body. */
  setOutage(on: boolean): void;
  /** Every access token issued so far answers 401 expired_token. */
  expireAllTokens(): void;
  /** Every refresh token issued so far answers invalid_grant. */
  revokeRefreshTokens(): void;
  /** Changes the portal's bucket (and empties it). */
  setBucket(rate: number, burst: number): void;
  /** The portal's language from now on (app events' LANGUAGE_ID, `app.info`). */
  setLanguage(id: string): void;
  /** Lifetime of access tokens issued from now on. */
  setAccessTokenTtl(sec: number): void;
  /**
   * While on, `method` answers 429 OPERATION_TIME_LIMIT with `time.operating_reset_at`; with
   * `untilMs` (epoch ms, emulator clock) the block lifts by itself then, as on Bitrix24.
   */
  setMethodBlocked(method: string, on: boolean, untilMs?: number): void;
  /** While on, every REST call answers 401 ACCESS_DENIED "REST is available only on commercial plans." */
  setRestUnavailable(on: boolean): void;
  close(): Promise<void>;
}

/** Starts the emulator on a loopback port. */
export async function startBitrix24Emulator(
  opts: Bitrix24EmulatorOptions = {},
): Promise<Bitrix24Emulator> {
  const clock = opts.clock ?? systemClock;
  const core = new EmulatorCore(
    {
      clientId: opts.clientId ?? 'local.sandbox',
      clientSecret: opts.clientSecret ?? 'sandbox-secret',
      memberId: opts.memberId ?? hex32(),
      domain: opts.domain ?? 'sandbox.bitrix24.by',
      applicationToken: opts.applicationToken ?? hex32(),
    },
    clock,
    opts.accessTokenTtlSec ?? 3600,
    opts.bucket ?? { rate: 2, burst: 50 },
  );
  if (opts.language) core.language = opts.language;

  const app: FastifyInstance = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    routerOptions: {
      ignoreTrailingSlash: true,
      querystringParser: (s: string) => qs.parse(s, { depth: 10, arrayLimit: 1000 }),
    },
    bodyLimit: 10 * 1024 * 1024,
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      done(null, qs.parse(body as string, { depth: 10, arrayLimit: 1000, parameterLimit: 10_000 }));
    },
  );
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    reply.code(status).send({
      error: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'INVALID_REQUEST',
      error_description: err.message,
    });
  });
  registerRest(app, core);
  registerOAuth(app, core);
  registerPortalPage(app, core);

  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('Bitrix24 emulator: no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  core.url = `http://${host}:${address.port}`;

  const { state } = core;
  const { clientId, clientSecret, memberId, domain } = core.identity;

  return {
    url: core.url,
    restBase: core.restBase,
    clientId,
    clientSecret,
    memberId,
    domain,
    get applicationToken() {
      return core.identity.applicationToken;
    },
    issueTokens: (userId) => core.tokens.issue(userId),
    connection: () => {
      const pair = core.tokens.issue();
      return {
        portalId: core.identity.memberId,
        domain: core.identity.domain,
        clientEndpoint: core.restBase,
        serverEndpoint: core.restBase,
        accessToken: pair.accessToken,
        refreshToken: pair.refreshToken,
        expiresAt: pair.expiresAt,
      };
    },
    install: (appBaseUrl, event = 'ONAPPINSTALL', o = {}) => install(core, appBaseUrl, event, o),
    sendFromCard: (o) => sendFromCard(core, o),
    runRobot: (o) => runRobot(core, o),
    openApp: (url, o) => openApp(core, url, o),
    registerMessage: (code, messageId, to = '', text = '') => {
      state.messages.set(PortalState.messageKey(code, messageId), {
        code,
        messageId,
        to,
        text,
        moduleId: 'crm',
        at: clock.now(),
      });
    },
    crm: core.crm,
    addContact: (f) => core.crm.add(ENTITY_TYPE.CONTACT, f),
    addLead: (f) => core.crm.add(ENTITY_TYPE.LEAD, f),
    addDeal: (f) => core.crm.add(ENTITY_TYPE.DEAL, f),
    addCompany: (f) => core.crm.add(ENTITY_TYPE.COMPANY, f),
    addItem: (entityTypeId, f) => core.crm.add(entityTypeId, f),
    addUserField: (entity, fieldName, userTypeId) => {
      const name = fieldName.startsWith('UF_CRM_') ? fieldName : `UF_CRM_${fieldName}`;
      const entityId = `CRM_${entity.toUpperCase()}`;
      if (!state.userFields.some((f) => f.ENTITY_ID === entityId && f.FIELD_NAME === name)) {
        state.userFields.push({
          ID: String(state.nextUserFieldId()),
          ENTITY_ID: entityId,
          FIELD_NAME: name,
          USER_TYPE_ID: userTypeId,
          XML_ID: null,
          SORT: '100',
          MULTIPLE: 'N',
          MANDATORY: 'N',
          SHOW_FILTER: 'N',
          SHOW_IN_LIST: 'N',
          EDIT_IN_LIST: 'Y',
          IS_SEARCHABLE: 'N',
          SETTINGS: {},
        });
      }
      return name;
    },
    get statusUpdates() {
      return state.statusUpdates;
    },
    latestStatus: (messageId) => state.latestStatus(messageId),
    get restRequests() {
      return { total: state.restRequests.total, byMethod: { ...state.restRequests.byMethod } };
    },
    get oauthRequests() {
      return state.oauthRequests;
    },
    get senders() {
      return [...state.senders.values()];
    },
    get eventHandlers() {
      return [...state.eventHandlers].flatMap(([event, set]) =>
        [...set].map((handler) => ({ event, handler })),
      );
    },
    get placements() {
      return [...state.placements.values()];
    },
    get robots() {
      return [...state.robots.values()];
    },
    get messages() {
      return [...state.messages.values()];
    },
    get timelineComments() {
      return state.timelineComments;
    },
    get timelineLogs() {
      return state.timelineLogs;
    },
    get bizprocEvents() {
      return state.bizprocEvents;
    },
    get userFields() {
      return state.userFields;
    },
    get notifications() {
      return state.notifications;
    },
    setOutage: (on) => {
      core.faults.outage = on;
    },
    expireAllTokens: () => core.tokens.expireAll(),
    revokeRefreshTokens: () => core.tokens.revokeRefreshTokens(),
    setBucket: (rate, burst) => {
      core.bucket.setLimits(core.identity.memberId, { rate, burst });
      core.bucket.reset();
    },
    setLanguage: (id) => {
      core.language = id;
    },
    setAccessTokenTtl: (sec) => {
      core.tokens.ttlSec = sec;
    },
    setMethodBlocked: (method, on, untilMs) => {
      if (on) core.faults.blockedMethods.set(method.toLowerCase(), untilMs ?? null);
      else core.faults.blockedMethods.delete(method.toLowerCase());
    },
    setRestUnavailable: (on) => {
      core.faults.restUnavailable = on;
    },
    close: async () => {
      await app.close();
    },
  };
}
