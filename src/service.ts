import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Bitrix24Client, createBitrix24Client } from './bitrix24/client.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import {
  type ConsentDeps,
  type ConsentSyncer,
  checkMarketingConsent,
  ensureConsentField,
  makeConsentSyncer,
} from './consent/index.js';
import { registerPortal, SENDER_CODE } from './core/register.js';
import { makeTimelineNotes } from './core/timelineNote.js';
import { parseQuietHours, type QuietWindow } from './domain/quietHours.js';
import { createHttpApp } from './http/app.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { adminRoutes } from './http/routes/admin.js';
import { bitrix24Routes } from './http/routes/bitrix24.js';
import { dlrRoutes } from './http/routes/dlr.js';
import { healthRoutes } from './http/routes/health.js';
import { robotRoutes } from './http/routes/robot.js';
import { createMtsClient } from './mts/client.js';
import type { MtsClient } from './mts/types.js';
import { type Connection, connect, makeTokenStore, migrate } from './store/index.js';
import { countByState, queueDepth } from './store/outbox.js';
import { getPortal, listPortals, type Portal, portalSettings } from './store/portals.js';
import { makeSharedRateLimiter } from './workers/rateLimiter.js';
import { makeRobotWorker, type RobotWorker } from './workers/robotWorker.js';
import { makeSender, type Sender } from './workers/sender.js';
import { makeStatusPoller, type StatusPoller } from './workers/statusPoller.js';
import { makeStatusPusher, type StatusPusher } from './workers/statusPusher.js';

/** Where MTS and Bitrix24 are, when not the configured ones (sandbox: the emulators). */
export interface Endpoints {
  mts: { baseUrl: string; clientId: string; login?: string; password?: string; token?: string };
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
  /** Keeps the local marketing-consent registry in step with each portal's CRM. */
  consent: ConsentSyncer;
  instanceId: string;
  /** Registers (or re-registers) one portal, or all active portals. */
  register(
    portalId?: string,
  ): Promise<{ portalId: string; domain: string; sender: string; robot: string }[]>;
  /** Starts the background workers (sender, status pusher). */
  startWorkers(): void;
  /** Finishes in-flight sends (intake still accepted meanwhile), stops HTTP, closes the database. */
  close(): Promise<void>;
}

/** The one wiring place: config → store → clients → HTTP + workers. */
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

  const mtsEndpoint = opts.endpoints?.mts ?? {
    baseUrl: config.MTS_API_URL,
    clientId: config.MTS_CLIENT_ID ?? '',
    ...(config.MTS_LOGIN ? { login: config.MTS_LOGIN } : {}),
    ...(config.MTS_PASSWORD ? { password: config.MTS_PASSWORD } : {}),
    ...(config.MTS_API_TOKEN ? { token: config.MTS_API_TOKEN } : {}),
  };
  const mts = opts.mts ?? createMtsClient({ ...mtsEndpoint, timeoutMs: config.MTS_TIMEOUT * 1000 });
  const oauthServers = opts.endpoints?.b24.oauthUrl
    ? [opts.endpoints.b24.oauthUrl]
    : config.B24_OAUTH_URL;
  const b24Creds = {
    clientId: opts.endpoints?.b24.clientId ?? config.B24_CLIENT_ID ?? '',
    clientSecret: opts.endpoints?.b24.clientSecret ?? config.B24_CLIENT_SECRET ?? '',
  };

  const bucketOverrides: Record<string, { rate: number; burst: number }> = {};
  for (const p of await listPortals(conn)) {
    const s = portalSettings(p);
    if (s.restRate || s.restBurst)
      bucketOverrides[p.id] = {
        rate: s.restRate ?? config.B24_RATE,
        burst: s.restBurst ?? config.B24_BURST,
      };
  }
  const b24 = createBitrix24Client({
    ...b24Creds,
    oauthServers,
    tokens: makeTokenStore(conn, clock),
    rate: config.B24_RATE,
    burst: config.B24_BURST,
    bucketOverrides,
    clock,
    logger: logger.child({ component: 'bitrix24' }),
  });

  const consentDeps: ConsentDeps = { conn, api: b24, clock, logger, field: config.CONSENT_FIELD };
  const consentSyncer = makeConsentSyncer({
    conn,
    api: b24,
    clock,
    logger,
    holder: instanceId,
    field: config.CONSENT_FIELD,
  });

  const limiter = makeSharedRateLimiter({
    conn,
    key: 'mts',
    rate: config.MTS_RATE_LIMIT,
    clock,
    headroomMs: config.MTS_RATE_HEADROOM_MS,
  });
  const dlrKeys = new Map<string, string>();
  const sender = makeSender({
    conn,
    mts,
    limiter,
    clock,
    logger,
    ttlSec: config.MTS_SMS_TTL,
    requestTimeoutMs: config.MTS_TIMEOUT * 1000,
    pollAfterSec: config.MTS_POLL_AFTER,
    concurrency: config.SENDER_CONCURRENCY,
    lockTtlMs: Math.max(120_000, config.MTS_TIMEOUT * 4000),
    callbackUrl: (m) => {
      const key = m.portal_id ? dlrKeys.get(m.portal_id) : dlrKeys.get('');
      return key ? `${config.PUBLIC_URL}/mts/dlr/${key}` : undefined;
    },
    onPause: () => metrics.paused.set(1),
    checkConsent: (m) =>
      m.portal_id && m.phone
        ? checkMarketingConsent(consentDeps, m.portal_id, m.phone)
        : Promise.resolve({
            allowed: false as const,
            reason:
              'no marketing consent: a marketing SMS needs a portal whose CRM records consent',
          }),
    onOutcome: (_m, outcome) => metrics.sends.inc({ outcome }),
  });
  // DLR keys are per portal and never change: load them once, refresh on install.
  const loadDlrKeys = async () => {
    for (const p of await listPortals(conn)) dlrKeys.set(p.id, p.dlr_key);
    // CLI sends have no portal: their reports go to the first portal's callback, if any.
    const first = [...dlrKeys.values()][0];
    if (first) dlrKeys.set('', first);
  };
  await loadDlrKeys();

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
    onBatch: (portalId, commands, ok) => {
      metrics.pushes.inc({ portal: portalId, outcome: ok ? 'sent' : 'failed' }, commands);
    },
  });

  const poller = makeStatusPoller({
    conn,
    mts,
    limiter,
    clock,
    logger,
    pollAfterSec: config.MTS_POLL_AFTER,
    intervalSec: config.MTS_POLL_INTERVAL,
    ttlSec: config.MTS_SMS_TTL,
    graceSec: config.MTS_EXPIRE_GRACE,
    holder: instanceId,
    onPoll: (outcome) => metrics.polls.inc({ outcome }),
  });

  /** Alpha name and marketing quiet hours for a portal: its settings, else the configuration. */
  const senderFor = async (
    portal: Portal | string | null,
    kind: 'transactional' | 'marketing',
  ): Promise<{ alphaName: string; quietHours: QuietWindow | null }> => {
    // The SMS handler already holds the portal row: no second read on the intake path.
    const p = typeof portal === 'string' ? await getPortal(conn, portal) : portal;
    const s = p ? portalSettings(p) : {};
    const alphaName =
      kind === 'marketing'
        ? (s.senderMarketing ?? config.mtsSenderMarketing)
        : (s.sender ?? config.mtsSender);
    return {
      alphaName,
      quietHours:
        kind === 'marketing' ? parseQuietHours(s.quietHours ?? config.MARKETING_QUIET_HOURS) : null,
    };
  };

  const robots = makeRobotWorker({
    conn,
    api: b24,
    clock,
    logger,
    holder: instanceId,
    senderFor,
    onQueued: () => sender.wake(),
  });

  let workersStarted = false;
  const registerDeps = {
    api: b24,
    conn,
    clock,
    logger,
    publicUrl: config.PUBLIC_URL,
    afterRegister: async (portal: { id: string }) => {
      // A conflicting field must not block the SMS provider: log, and marketing stays refused.
      try {
        await ensureConsentField(b24, portal.id, config.CONSENT_FIELD);
      } catch (err) {
        logger.warn(
          { portalId: portal.id, err: (err as Error).message },
          `could not create the consent field ${config.CONSENT_FIELD}`,
        );
      }
      if (workersStarted)
        void consentSyncer
          .syncNow(portal.id)
          .catch((err) =>
            logger.warn(
              { portalId: portal.id, err: (err as Error).message },
              'consent sync failed; will retry',
            ),
          );
    },
  };

  const register = async (portalId?: string) => {
    const portals = portalId
      ? [await getPortal(conn, portalId)]
      : (await listPortals(conn)).filter((p) => p.status === 'active');
    const out: { portalId: string; domain: string; sender: string; robot: string }[] = [];
    for (const p of portals) {
      if (!p) throw new Error(`no installed portal with member_id ${portalId}`);
      const r = await registerPortal(registerDeps, p);
      out.push({ portalId: p.id, domain: p.domain, sender: r.sender, robot: r.robot });
    }
    return out;
  };

  const app = createHttpApp({ bodyLimit: config.BODY_LIMIT, logger });
  healthRoutes(app, {
    conn,
    metrics,
    b24Access: () => b24.accessProblems(),
    beforeScrape: async () => {
      const depth = await queueDepth(conn, clock.now());
      metrics.queueDepth.set(depth.queued);
      metrics.oldestQueuedAge.set(
        depth.oldestQueuedAt ? (clock.now() - depth.oldestQueuedAt) / 1000 : 0,
      );
      const byState = await countByState(conn);
      metrics.messages.reset();
      for (const [state, n] of Object.entries(byState)) metrics.messages.set({ state }, n);
      metrics.paused.set(sender.status().pausedUntil ? 1 : 0);
      for (const p of await listPortals(conn))
        metrics.restRequests.set({ portal: p.id }, b24.restRequests(p.id));
    },
  });

  bitrix24Routes(app, {
    conn,
    clock,
    logger,
    metrics,
    senderFor,
    register: async (portal) => {
      b24.forget(portal.id);
      dlrKeys.set(portal.id, portal.dlr_key);
      if (!dlrKeys.has('')) dlrKeys.set('', portal.dlr_key);
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
  });
  robotRoutes(app, { conn, clock, onJob: () => robots.wake() });
  dlrRoutes(app, { conn, clock, logger, metrics, pollAfterSec: config.MTS_POLL_AFTER });

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
    consent: consentSyncer,
    instanceId,
    register,
    startWorkers() {
      if (workersStarted) return;
      workersStarted = true;
      sender.start();
      pusher.start();
      poller.start();
      robots.start();
      consentSyncer.start();
    },
    async close() {
      // Workers drain first while HTTP still accepts and commits intake (it waits in the
      // outbox for the next start); then HTTP stops, then the database closes. A call waiting
      // out a Bitrix24 limit ends at once (retryable): the work stays for the next start.
      b24.close();
      // The sender's idle wait listens to its wake signal, not its stop signal: a stop that
      // lands between a claim and that wait would sit out a whole idle period (forever on a
      // fake clock). Keep waking it until it has stopped. (Lead: drop once sender.ts sleeps
      // on both signals.)
      const nudge = setInterval(() => sender.wake(), 20);
      try {
        await Promise.all([
          sender.stop(),
          pusher.stop(),
          poller.stop(),
          robots.stop(),
          consentSyncer.stop(),
        ]);
      } finally {
        clearInterval(nudge);
      }
      await app.close();
      if (ownsConn) await conn.close();
    },
  };
}
