import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Bitrix24Client, createBitrix24Client } from './bitrix24/client.js';
import { callWithToken } from './bitrix24/directCall.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import {
  type ConsentSyncer,
  checkBeforeSending,
  checkMarketingConsent,
  consentOnRegister,
  makeConsentSyncer,
} from './consent/index.js';
import { readBacklog } from './core/backlog.js';
import { type Campaigns, makeCampaigns } from './core/campaigns/campaigns.js';
import { type MtsAccount, makeContractDirectory } from './core/contracts.js';
import { loadCrmDocument, mobilePhones } from './core/crmDocument.js';
import { makeDlrKeys } from './core/dlrKeys.js';
import { makeIncidentAlerts } from './core/incidentAlerts.js';
import { intakeSms } from './core/intake.js';
import {
  type RegisterDeps,
  type RegisteredPortal,
  registerPortal,
  registerPortals,
  SENDER_CODE,
} from './core/register.js';
import { restLimits } from './core/restLimits.js';
import { makeSenderChoice } from './core/senderChoice.js';
import { queueTestSms } from './core/testSms.js';
import { makeTimelineNotes } from './core/timelineNote.js';
import { verifyAppOpen } from './core/verifyAppOpen.js';
import { parseQuietHours } from './domain/quietHours.js';
import { createHttpApp } from './http/app.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { adminRoutes } from './http/routes/admin.js';
import { bitrix24Routes } from './http/routes/bitrix24.js';
import { dlrRoutes } from './http/routes/dlr.js';
import { healthRoutes } from './http/routes/health.js';
import { robotRoutes } from './http/routes/robot.js';
import { makeScrapeGauges } from './http/scrapeGauges.js';
import { createDepartureGate } from './mts/departures.js';
import type { MtsClient } from './mts/types.js';
import {
  type Connection,
  connect,
  getMessage,
  getPortal,
  makeGroupCommit,
  makeTokenStore,
  migrate,
  portalSettings,
} from './store/index.js';
import { type CampaignFeeder, makeCampaignFeeder } from './workers/campaignFeeder.js';
import { makeMarketingCurfew } from './workers/marketingCurfew.js';
import { makeRetention, type Retention } from './workers/retention.js';
import { makeRobotWorker, type RobotWorker } from './workers/robotWorker.js';
import { makeSender, type Sender } from './workers/sender.js';
import { makeStatsRollup, type StatsRollup } from './workers/statsRollup.js';
import { makeStatusPoller, type StatusPoller } from './workers/statusPoller.js';
import { makeStatusPusher, type StatusPusher } from './workers/statusPusher.js';

/** Where MTS and Bitrix24 are, when not the configured ones (sandbox: the emulators). */
export interface Endpoints {
  mts: MtsAccount;
  b24: { clientId: string; clientSecret: string; oauthUrl?: string };
}

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Reuse an open connection (tests); default: connect to config.DATABASE_URL and migrate. */
  conn?: Connection;
  /** Overrides the configured MTS/Bitrix24 endpoints and credentials (sandbox mode). */
  endpoints?: Endpoints;
  /** Replaces the MTS client entirely (rare; tests use the emulator instead). */
  mts?: MtsClient;
}

export interface Service {
  config: Config;
  conn: Connection;
  app: FastifyInstance;
  metrics: Metrics;
  mts: MtsClient;
  b24: Bitrix24Client;
  sender: Sender;
  pusher: StatusPusher;
  poller: StatusPoller;
  robots: RobotWorker;
  /** Deletes final messages older than RETENTION_DAYS. */
  retention: Retention;
  /** Folds the delivery figures' deltas into daily rows (the overview reads those). */
  statsRollup: StatsRollup;
  /** Keeps the local marketing-consent registry in step with each portal's CRM. */
  consent: ConsentSyncer;
  /** Campaigns: create (audience and estimate), start, pause, resume, cancel, test, status. */
  campaigns: Campaigns;
  /** Moves running campaigns' recipients into the outbox. */
  campaignFeeder: CampaignFeeder;
  instanceId: string;
  /** Registers (or re-registers) one portal, or all active portals. */
  register(portalId?: string): Promise<RegisteredPortal[]>;
  /** Starts the background workers (sender, status pusher). */
  startWorkers(): void;
  /** Finishes in-flight sends (intake still accepted meanwhile), stops HTTP, closes the database. */
  close(): Promise<void>;
}

/**
 * The one wiring place: config → store → clients → HTTP + workers. It builds the parts and
 * passes each what it needs; the rules live in the parts (core/, consent/, workers/, http/).
 */
export async function createService(opts: ServiceOptions): Promise<Service> {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const instanceId = randomUUID();
  const ownsConn = !opts.conn;
  const conn =
    opts.conn ??
    connect(config.DATABASE_URL, {
      onConnectionError: (err) =>
        logger.warn({ err: err.message }, 'database connection lost; reconnecting on next use'),
    });
  if (ownsConn) await migrate(conn);
  const metrics = createMetrics();

  const timeoutMs = config.MTS_TIMEOUT * 1000;
  // Sends leave from a thread of their own at their rate slot (mts/departures.ts). On a fake
  // clock (tests) they leave from the sender's loop, which keeps that clock.
  // The thread starts with the sender (beforeStart), not here: one-shot commands that build the
  // service without sending never start it.
  const departures = clock === systemClock ? createDepartureGate() : undefined;
  // The environment's MTS settings are the default contract; portals may have their own.
  const contracts = makeContractDirectory({
    conn,
    clock,
    account: opts.endpoints?.mts ?? {
      baseUrl: config.MTS_API_URL,
      clientId: config.MTS_CLIENT_ID ?? '',
      ...(config.MTS_LOGIN ? { login: config.MTS_LOGIN } : {}),
      ...(config.MTS_PASSWORD ? { password: config.MTS_PASSWORD } : {}),
      ...(config.MTS_API_TOKEN ? { token: config.MTS_API_TOKEN } : {}),
    },
    defaults: {
      sender: config.mtsSender,
      senderMarketing: config.mtsSenderMarketing,
      rate: config.MTS_RATE_LIMIT,
    },
    timeoutMs,
    secretKey: config.SECRET_KEY,
    defaultClient: opts.mts,
    departures,
  });
  await contracts.saveDefault();
  const mts = contracts.defaultClient;

  const oauthServers = opts.endpoints?.b24.oauthUrl
    ? [opts.endpoints.b24.oauthUrl]
    : config.B24_OAUTH_URL;
  const b24Creds = {
    clientId: opts.endpoints?.b24.clientId ?? config.B24_CLIENT_ID ?? '',
    clientSecret: opts.endpoints?.b24.clientSecret ?? config.B24_CLIENT_SECRET ?? '',
  };
  const b24 = createBitrix24Client({
    ...b24Creds,
    oauthServers,
    tokens: makeTokenStore(conn, clock),
    ...(await restLimits(conn, clock, { rate: config.B24_RATE, burst: config.B24_BURST })),
    clock,
    logger: logger.child({ component: 'bitrix24' }),
  });

  // A portal may name its own consent field (settings); otherwise CONSENT_FIELD.
  const consentFieldFor = async (portalId: string) => {
    const p = await getPortal(conn, portalId);
    return p ? portalSettings(p).consentField : undefined;
  };
  const consentDeps = {
    conn,
    api: b24,
    clock,
    logger,
    field: config.CONSENT_FIELD,
    fieldFor: consentFieldFor,
  };
  const consentSyncer = makeConsentSyncer({ ...consentDeps, holder: instanceId });
  const dlrKeys = makeDlrKeys({ conn, publicUrl: config.PUBLIC_URL });
  const senderDefaults = {
    sender: config.mtsSender,
    senderMarketing: config.mtsSenderMarketing,
    quietHours: config.MARKETING_QUIET_HOURS,
    maxParts: config.SMS_MAX_PARTS,
    rate: config.MTS_RATE_LIMIT,
  };
  const senderFor = makeSenderChoice({ conn, contracts, defaults: senderDefaults });
  const alertAdmins = makeIncidentAlerts({ api: b24, conn, clock, logger, contracts });

  // Intake, delivery reports and send outcomes commit in shared groups (store/groupCommit.ts):
  // a group starts when its most impatient job is due. A handler POST does not wait: it
  // starts a group at once, or joins the next one while two are in flight (on SQLite the
  // fsync runs in the thread pool, so the next group builds meanwhile; waiting 1 ms for
  // companions measured 12–14 % fewer POSTs/s). A delivery report waits up to 10 ms (MTS
  // waits for our 200, not on a schedule); a send outcome up to 200 ms — nobody waits on it,
  // and one lost in a crash only means a lookup by extra_id, never a second send — so
  // outcomes mostly ride along with the others.
  const writes = makeGroupCommit(conn);
  const commitOutcome = <T>(fn: (c: Connection) => Promise<T>) => writes.run(fn, { lingerMs: 200 });
  const commitReports = <T>(fn: (c: Connection) => Promise<T>) => writes.run(fn, { lingerMs: 10 });

  const sender = makeSender({
    conn,
    ...(departures ? { beforeStart: () => departures.start() } : {}),
    commit: commitOutcome,
    mtsFor: contracts.mtsFor,
    clock,
    logger,
    ttlSec: config.MTS_SMS_TTL,
    requestTimeoutMs: timeoutMs,
    pollAfterSec: config.MTS_POLL_AFTER,
    lookupGraceSec: config.MTS_LOOKUP_GRACE,
    firstProbeMs: config.MTS_PROBE_AFTER * 1000,
    headroomMs: config.MTS_RATE_HEADROOM_MS,
    concurrency: config.SENDER_CONCURRENCY,
    lockTtlMs: Math.max(120_000, config.MTS_TIMEOUT * 4000),
    callbackUrl: (m) => dlrKeys.callbackUrl(m.portal_id),
    onIncident: (i) => {
      metrics.paused.set(sender.status().paused.length ? 1 : 0);
      metrics.incidents.inc({ kind: i.kind });
      // Once per incident (only the instance that started or ended it gets here); never
      // blocks sending.
      void alertAdmins(i);
    },
    checkConsent: (m) => checkBeforeSending(consentDeps, m),
    onOutcome: (_m, outcome) => metrics.sends.inc({ outcome }),
  });

  const timelineNotes = makeTimelineNotes(conn);
  const pusher = makeStatusPusher({
    conn,
    api: b24,
    clock,
    logger,
    senderCode: SENDER_CODE,
    holder: instanceId,
    maxDelayMs: config.B24_PUSH_DELAY_MS,
    extraCommands: timelineNotes.commands,
    extrasEnabled: timelineNotes.enabled,
    campaignLog: timelineNotes.campaignLog,
    onBatch: (portalId, commands, ok) => {
      metrics.pushes.inc({ portal: portalId, outcome: ok ? 'sent' : 'failed' }, commands);
    },
  });

  const poller = makeStatusPoller({
    conn,
    // A poll takes a rate slot of the message's contract, like a send.
    slot: async (contractId) => {
      const c = await contracts.get(contractId);
      return c && (await sender.acquireSlot(c)) ? contracts.mtsFor(c) : null;
    },
    clock,
    logger,
    pollAfterSec: config.MTS_POLL_AFTER,
    intervalSec: config.MTS_POLL_INTERVAL,
    ttlSec: config.MTS_SMS_TTL,
    graceSec: config.MTS_EXPIRE_GRACE,
    holder: instanceId,
    onPoll: (outcome) => metrics.polls.inc({ outcome }),
  });

  const robots = makeRobotWorker({
    conn,
    api: b24,
    clock,
    logger,
    holder: instanceId,
    senderFor,
    onQueued: () => sender.wake(),
  });

  const retention = makeRetention({
    conn,
    clock,
    logger,
    holder: instanceId,
    days: config.RETENTION_DAYS,
    onDeleted: (n) => metrics.retention.inc(n),
  });
  const statsRollup = makeStatsRollup({ conn, clock, logger, holder: instanceId });

  const campaigns = makeCampaigns({
    conn,
    api: b24,
    clock,
    logger,
    senderFor,
    consentField: config.CONSENT_FIELD,
    maxParts: config.SMS_MAX_PARTS,
    pricePerPart: config.PRICE_PER_PART,
  });
  const campaignFeeder = makeCampaignFeeder({
    conn,
    clock,
    logger,
    holder: instanceId,
    senderFor,
    maxParts: config.SMS_MAX_PARTS,
    onQueued: () => sender.wake(),
  });

  const curfew = makeMarketingCurfew({ conn, clock, logger, holder: instanceId, senderFor });

  let workersStarted = false;
  const registerDeps: RegisterDeps = {
    api: b24,
    conn,
    clock,
    logger,
    publicUrl: config.PUBLIC_URL,
    afterRegister: consentOnRegister({
      api: b24,
      logger,
      field: config.CONSENT_FIELD,
      fieldFor: consentFieldFor,
      syncer: consentSyncer,
      syncing: () => workersStarted,
    }),
  };

  const quietHours = parseQuietHours(config.MARKETING_QUIET_HOURS);
  const backlog = (now: number) =>
    readBacklog({ conn, now, quietHours, defaultRate: config.MTS_RATE_LIMIT });

  const app = createHttpApp({ bodyLimit: config.BODY_LIMIT, logger });
  healthRoutes(app, {
    conn,
    metrics,
    metricsToken: config.METRICS_TOKEN,
    sending: () => {
      const st = sender.status();
      return { paused: st.paused, holds: st.holds, pace: st.pace };
    },
    b24Access: () => b24.accessProblems(),
    beforeScrape: makeScrapeGauges({
      conn,
      clock,
      metrics,
      backlog,
      sending: () => sender.status(),
      restRequests: (portalId) => b24.restRequests(portalId),
    }),
  });
  bitrix24Routes(app, {
    conn,
    intake: (req, now) => writes.run((c) => intakeSms(c, req, now)),
    consentAtIntake: (portalId, phone) =>
      checkMarketingConsent(consentDeps, portalId, phone, { live: false }),
    clock,
    logger,
    metrics,
    senderFor,
    register: async (portal) => {
      // A (re)install brings new tokens and perhaps a new DLR key.
      b24.forget(portal.id);
      dlrKeys.remember(portal);
      return registerPortal(registerDeps, portal);
    },
    onQueued: () => sender.wake(),
    oauth: { ...b24Creds, servers: oauthServers },
  });
  adminRoutes(app, {
    conn,
    clock,
    adminToken: config.ADMIN_TOKEN,
    sandbox: config.sandbox,
    sendingStatus: () => sender.status(),
    statsDeps: () => ({ conn, now: clock.now(), quietHours, defaultRate: config.MTS_RATE_LIMIT }),
    settings: {
      ...senderDefaults,
      consentField: config.CONSENT_FIELD,
      restRate: config.B24_RATE,
      restBurst: config.B24_BURST,
      secretKey: config.SECRET_KEY,
    },
    register: (portalId) => registerPortals(registerDeps, portalId),
    campaigns,
    app: {
      secret: b24Creds.clientSecret,
      open: (o) => verifyAppOpen({ conn, clientId: b24Creds.clientId }, o),
      recordPhones: async (portal, record, authId) => {
        // The user's own token: Bitrix24 applies their CRM permissions.
        const asUser = {
          call: <T>(_portalId: string, method: string, params?: Record<string, unknown>) =>
            callWithToken<T>({
              clientEndpoint: portal.client_endpoint,
              method,
              accessToken: authId,
              ...(params ? { params } : {}),
              fetch: globalThis.fetch,
              timeoutMs: 10_000,
            }),
        };
        return mobilePhones(await loadCrmDocument(asUser, portal.id, record));
      },
      active: async (portalId) => (await getPortal(conn, portalId))?.status === 'active',
      visible: async (grant, id) => {
        const m = await getMessage(conn, id);
        if (!m || m.portal_id !== grant.portalId) return false;
        return !grant.record || (m.phone !== null && (grant.phones ?? []).includes(m.phone));
      },
    },
    secureCookies: config.PUBLIC_URL.startsWith('https:'),
    testSms: async (req) => {
      const m = await queueTestSms({ conn, senderFor }, req, clock.now());
      sender.wake();
      return { id: m.id, state: m.state };
    },
  });
  robotRoutes(app, { conn, clock, onJob: () => robots.wake() });
  dlrRoutes(app, {
    conn,
    clock,
    logger,
    metrics,
    pollAfterSec: config.MTS_POLL_AFTER,
    commit: commitReports,
  });

  return {
    config,
    conn,
    app,
    metrics,
    mts,
    b24,
    sender,
    pusher,
    poller,
    robots,
    retention,
    statsRollup,
    consent: consentSyncer,
    campaigns,
    campaignFeeder,
    instanceId,
    register: (portalId) => registerPortals(registerDeps, portalId),
    startWorkers() {
      if (workersStarted) return;
      workersStarted = true;
      sender.start();
      pusher.start();
      poller.start();
      robots.start();
      consentSyncer.start();
      retention.start();
      statsRollup.start();
      campaignFeeder.start();
      curfew.start();
    },
    async close() {
      // Workers drain first while HTTP still accepts and commits intake (it waits in the
      // outbox for the next start); then HTTP stops, then the database closes. A call waiting
      // out a Bitrix24 limit ends at once (retryable): the work stays for the next start.
      b24.close();
      await Promise.all([
        sender.stop(),
        pusher.stop(),
        poller.stop(),
        robots.stop(),
        consentSyncer.stop(),
        retention.stop(),
        statsRollup.stop(),
        campaignFeeder.stop(),
        curfew.stop(),
      ]);
      // Fastify closes the connections idle at this moment; one busy now (a delivery report
      // being answered) turns idle later and would otherwise stay open for the keep-alive
      // timeout (72 s). Keep closing idle ones until the server is closed.
      const sweep = setInterval(() => app.server.closeIdleConnections?.(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      // The MTS clients this service built keep connections alive; end them.
      contracts.close();
      await departures?.close();
      if (ownsConn) await conn.close();
    },
  };
}
