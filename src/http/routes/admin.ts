import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PORTAL_DOMAIN, timingSafeTokenEqual } from '../../bitrix24/inbound.js';
import type { Clock } from '../../clock.js';
import { CampaignError, type Campaigns } from '../../core/campaigns/campaigns.js';
import { findMessages, messageHistory } from '../../core/history.js';
import { CSV_HEADER } from '../../core/phones/csv.js';
import {
  apiFieldName,
  applySettings,
  checkPortalAdminChange,
  readSettings,
  type SettingsChange,
  type SettingsDefaults,
  SettingsForbiddenError,
  type SettingsInput,
  settingsChange,
} from '../../core/portalSettings.js';
import { readOverview, readStats, type StatsDeps } from '../../core/stats.js';
import type { AppAccess, AppOpen, CrmRecordRef } from '../../core/verifyAppOpen.js';
import { minskDate } from '../../domain/minskTime.js';
import { InputError } from '../../errors.js';
import { langOf, langOfAcceptLanguage } from '../../i18n/lang.js';
import { APP_PAGE, PRODUCT } from '../../i18n/texts.js';
import {
  type Connection,
  DEFAULT_CONTRACT,
  getCampaign,
  getContract,
  getPhoneScan,
  getPortal,
  listPhoneScans,
  listPortals,
  type Portal,
  phoneScanChunks,
  portalContractId,
  pushBacklog,
  queueDepth,
} from '../../store/index.js';
import {
  APP_TOKEN_HEADER,
  APP_TOKEN_TTL_MS,
  type AppGrant,
  issueAppToken,
  readAppToken,
} from '../appToken.js';
import { escapeHtml } from '../html.js';
import {
  bearerToken,
  cookieValue,
  csrfToken,
  issueSession,
  readSession,
  SESSION_COOKIE,
  type Session,
  sessionCookie,
} from '../session.js';
import { PAGE_NOT_BUILT, type PageMeta, pageHtml, registerWebAssets } from '../webPage.js';

export interface AdminDeps {
  conn: Connection;
  clock: Clock;
  /** ADMIN_TOKEN; without it the API is closed, except in sandbox mode. */
  adminToken: string | undefined;
  sandbox: boolean;
  sendingStatus: () => { pausedUntil: number | null; pauseReason: string | null; inFlight: number };
  /** What the figures and the backlog are read with (core/stats.ts), as of now. */
  statsDeps: () => StatsDeps;
  /** Session cookies carry `Secure` (PUBLIC_URL is https). */
  secureCookies: boolean;
  /** What a portal without settings of its own gets, and SECRET_KEY (encrypts MTS secrets). */
  settings: SettingsDefaults & { secretKey: string | undefined };
  /** The page inside Bitrix24 and its grants (http/appToken.ts). */
  app: {
    /** B24_CLIENT_SECRET: signs the page's grants. */
    secret: string;
    /** Whether a portal still has the app installed (a grant of an uninstalled one opens nothing). */
    active: (portalId: string) => Promise<boolean>;
    /** Whether a grant may see a message (its portal; in a card tab, the record's numbers). */
    visible: (grant: AppGrant, messageId: string) => Promise<boolean>;
    /** Verifies a page open posted by Bitrix24 (core/verifyAppOpen.ts). */
    open: (open: AppOpen) => Promise<AppAccess>;
    /**
     * The mobile numbers of a CRM record (its card tab shows the messages to them), read with
     * the opening user's own AUTH_ID: a record they may not see gives nothing.
     */
    recordPhones: (portal: Portal, record: CrmRecordRef, authId: string) => Promise<string[]>;
  };
  /** Registers the portal's providers and robot again (after its Sender IDs changed). */
  register: (portalId: string) => Promise<unknown>;
  /** Campaigns: list, status, and the moves start / pause / resume / cancel. */
  campaigns: Pick<Campaigns, 'list' | 'status' | 'start' | 'pause' | 'resume' | 'cancel'>;
  /** Commits a test SMS (core/testSms.ts) and wakes the sender. */
  testSms: (req: {
    to: unknown;
    text: unknown;
    portalId: string | null;
    requestId?: string;
  }) => Promise<{ id: string; state: string }>;
}

type Access =
  | { ok: true; session?: Session; grant?: AppGrant }
  | { ok: false; why: 'unauthorized' | 'csrf' | 'forbidden' };

/**
 * Who may read and change: `Authorization: Bearer ADMIN_TOKEN` (scripts) or the session cookie
 * of a login (pages); with the cookie, a change (any method but GET/HEAD) also needs the
 * session's `X-CSRF-Token`. Without ADMIN_TOKEN everything is closed, except in sandbox mode.
 */
async function access(deps: AdminDeps, req: FastifyRequest): Promise<Access> {
  // The page inside Bitrix24: a grant for one portal, signed when the page was opened — and
  // only while that portal still has the app installed.
  const app = req.headers[APP_TOKEN_HEADER];
  if (typeof app === 'string') {
    const grant = readAppToken(deps.app.secret, app, deps.clock.now());
    if (!grant || !(await deps.app.active(grant.portalId)))
      return { ok: false, why: 'unauthorized' };
    return { ok: true, grant };
  }
  if (!deps.adminToken) return deps.sandbox ? { ok: true } : { ok: false, why: 'unauthorized' };
  const bearer = bearerToken(req.headers.authorization);
  if (bearer !== undefined)
    return timingSafeTokenEqual(bearer, deps.adminToken)
      ? { ok: true }
      : { ok: false, why: 'unauthorized' };
  const session = readSession(
    deps.adminToken,
    cookieValue(req.headers.cookie, SESSION_COOKIE),
    deps.clock.now(),
  );
  if (!session) return { ok: false, why: 'unauthorized' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const sent = req.headers['x-csrf-token'];
    if (
      typeof sent !== 'string' ||
      !timingSafeTokenEqual(sent, csrfToken(deps.adminToken, session))
    )
      return { ok: false, why: 'csrf' };
  }
  return { ok: true, session };
}

/**
 * Inside Bitrix24, changes and the whole portal's figures, campaigns and settings are for the
 * portal's administrators; other users only see the messages of the CRM card they opened.
 */
function portalAdmin(a: Access): Access {
  return a.ok && a.grant && !a.grant.admin ? { ok: false, why: 'forbidden' } : a;
}

function deny(
  deps: AdminDeps,
  reply: FastifyReply,
  why: 'unauthorized' | 'csrf' | 'forbidden' = 'unauthorized',
) {
  if (why === 'forbidden')
    return reply.code(403).send({
      error: 'forbidden',
      message: 'Only an administrator of this Bitrix24 portal can see or change this.',
    });
  if (why === 'csrf')
    return reply.code(403).send({
      error: 'csrf',
      message: "A change needs the session's X-CSRF-Token header (GET /api/session gives it).",
    });
  return reply.code(401).send({
    error: 'unauthorized',
    message: deps.adminToken
      ? 'Log in (POST /api/session with the ADMIN_TOKEN) or send Authorization: Bearer <ADMIN_TOKEN>.'
      : 'Set ADMIN_TOKEN to use the admin API.',
  });
}

/** The token a login posted (JSON or a form). */
function postedToken(body: unknown): string {
  const t = body && typeof body === 'object' ? (body as Record<string, unknown>).token : undefined;
  return typeof t === 'string' ? t : '';
}

/** Inside Bitrix24: this portal's figures and waiting messages, nothing of the others. */
async function portalOverview(deps: AdminDeps, grant: AppGrant) {
  const p = await getPortal(deps.conn, grant.portalId);
  const own = await getContract(deps.conn, portalContractId(grant.portalId));
  const contract = own ? own.id : DEFAULT_CONTRACT;
  const { backlog, ...figures } = await readOverview(deps.statsDeps(), {
    portal: grant.portalId,
  });
  return {
    portal: { id: grant.portalId, domain: p?.domain ?? '' },
    sandbox: deps.sandbox,
    ...figures,
    waiting: backlog.portals.find((x) => x.portal === grant.portalId)?.waiting ?? 0,
    // Why its messages wait: the reasons of the MTS contract it sends on (without that
    // contract's counts, which on the shared one are other portals' too).
    reasons: backlog.lanes
      .filter((l) => l.contract === contract)
      .flatMap((l) =>
        l.reasons.map((r) => ({
          lane: l.lane,
          reason: r.reason,
          text: r.text,
          action: r.action,
          until: r.until,
        })),
      ),
    bitrix24: await statusesWaiting(deps.conn, p ? [p] : [], grant.portalId),
  };
}

/**
 * Delivery statuses not yet in Bitrix24, per portal: a portal that refuses them or cannot be
 * reached shows here (`failing`, the error) while the pusher keeps retrying.
 */
async function statusesWaiting(conn: Connection, portals: Portal[], portalId?: string) {
  return (await pushBacklog(conn, portalId)).map((r) => ({
    portal: r.portal_id,
    domain: portals.find((p) => p.id === r.portal_id)?.domain ?? r.portal_id,
    waiting: r.waiting,
    failing: r.failing,
    nextAt: r.next_at,
    error: r.error,
  }));
}

async function overview(deps: AdminDeps) {
  const sd = deps.statsDeps();
  const portals = await listPortals(deps.conn);
  return {
    sandbox: deps.sandbox,
    database: deps.conn.caps.name,
    sending: deps.sendingStatus(),
    queue: await queueDepth(deps.conn, sd.now),
    // today, last30, byDay, bySender, byType, backlog
    ...(await readOverview(sd)),
    bitrix24: await statusesWaiting(deps.conn, portals),
    portals: portals.map((p) => ({
      id: p.id,
      domain: p.domain,
      status: p.status,
      registeredAt: p.registered_at,
    })),
  };
}

/** The portal a request names (`?portal=` member_id or domain), or the only one installed. */
async function portalFor(
  conn: Connection,
  named: string | undefined,
): Promise<{ portal: Portal } | { status: 400 | 404; message: string }> {
  const portals = (await listPortals(conn)).filter((p) => p.status === 'active');
  if (named) {
    const p = portals.find((x) => x.id === named || x.domain === named);
    return p ? { portal: p } : { status: 404, message: `No installed portal "${named}".` };
  }
  if (portals.length === 1) return { portal: portals[0] as Portal };
  return portals.length === 0
    ? { status: 404, message: 'No portal is installed yet.' }
    : {
        status: 400,
        message: `Several portals are installed: name one with ?portal= (${portals.map((p) => p.domain).join(', ')}).`,
      };
}

/** `PUT /api/settings`'s JSON, checked for shape; the rules are core/portalSettings.ts's. */
const settingsBody = z
  .object({
    sender: z.string(),
    senderMarketing: z.string(),
    senders: z.array(z.string()),
    quietHours: z.string(),
    timelineNotes: z.boolean(),
    robotTrace: z.string(),
    language: z.string(),
    restRate: z.number(),
    restBurst: z.number(),
    alertUserId: z.number(),
    consentField: z.string(),
    mts: z.union([
      z.literal('default'),
      z
        .object({
          clientId: z.string(),
          login: z.string(),
          password: z.string(),
          token: z.string(),
          rate: z.number(),
          url: z.string(),
        })
        .partial()
        .strict(),
    ]),
  })
  .partial()
  .strict();

function settingsInput(body: z.infer<typeof settingsBody>): SettingsInput {
  const { timelineNotes, restRate, restBurst, alertUserId, mts, ...plain } = body;
  const str = (v: number | undefined) => (v === undefined ? undefined : String(v));
  const input: SettingsInput = { ...plain };
  if (timelineNotes !== undefined) input.timelineNotes = timelineNotes ? 'on' : 'off';
  if (restRate !== undefined) input.restRate = str(restRate);
  if (restBurst !== undefined) input.restBurst = str(restBurst);
  if (alertUserId !== undefined) input.alertUserId = str(alertUserId);
  if (mts === 'default') input.mtsDefault = true;
  else if (mts) {
    const fields = {
      mtsClientId: mts.clientId,
      mtsLogin: mts.login,
      mtsPassword: mts.password,
      mtsToken: mts.token,
      mtsRate: str(mts.rate),
      mtsUrl: mts.url,
    };
    for (const [k, v] of Object.entries(fields))
      if (v !== undefined) input[k as keyof typeof fields] = v;
  }
  return input;
}

/** `/api/…` (JSON, ADMIN_TOKEN), the admin page at `/` and the app's page inside Bitrix24. */
export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const login = (reply: FastifyReply, token: string) => {
    if (!deps.adminToken || !timingSafeTokenEqual(token, deps.adminToken)) return undefined;
    const s = issueSession(deps.adminToken, deps.clock.now());
    reply.header('set-cookie', sessionCookie(s.value, deps.secureCookies));
    return s;
  };

  app.post('/api/session', async (req, reply) => {
    if (!deps.adminToken)
      return reply.code(400).send({
        error: 'bad_request',
        message: 'Set ADMIN_TOKEN to log in (sandbox mode without it is open).',
      });
    const s = login(reply, postedToken(req.body));
    if (!s) return deny(deps, reply);
    return { authenticated: true, csrf: s.csrf, expiresAt: s.session.expiresAt };
  });
  app.get('/api/session', async (req, reply) => {
    const a = await access(deps, req);
    if (!a.ok) return deny(deps, reply, a.why);
    return {
      authenticated: true,
      ...(a.session && deps.adminToken
        ? { csrf: csrfToken(deps.adminToken, a.session), expiresAt: a.session.expiresAt }
        : {}),
    };
  });
  app.delete('/api/session', async (req, reply) => {
    const a = await access(deps, req);
    if (!a.ok) return deny(deps, reply, a.why);
    reply.header('set-cookie', sessionCookie(undefined, deps.secureCookies));
    return { authenticated: false };
  });
  app.get('/api/overview', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    return a.grant ? portalOverview(deps, a.grant) : overview(deps);
  });

  // The installed portals, for the page's portal pickers (inside Bitrix24: that portal only).
  app.get('/api/portals', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    return (await listPortals(deps.conn))
      .filter((p) => !a.grant || p.id === a.grant.portalId)
      .map((p) => ({ id: p.id, domain: p.domain, status: p.status }));
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/api/stats', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    const q = req.query;
    return answer(reply, () =>
      readStats(deps.statsDeps(), {
        by: q.by || undefined,
        from: q.from || undefined,
        to: q.to || undefined,
        portal: a.grant?.portalId ?? (q.portal || undefined),
      }),
    );
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/api/messages',
    async (req, reply) => {
      const a = await access(deps, req);
      if (!a.ok) return deny(deps, reply, a.why);
      const q = req.query;
      const limit = Math.min(500, Math.max(1, Number(q.limit ?? 50) || 50));
      return answer(reply, () =>
        findMessages(deps.conn, {
          limit,
          phone: q.phone,
          state: q.state || undefined,
          from: q.from,
          to: q.to,
          sender: q.sender || undefined,
          campaign: q.campaign || undefined,
          portalId: a.grant?.portalId,
          phones: a.grant?.record ? (a.grant.phones ?? []) : undefined,
        }),
      );
    },
  );

  /**
   * Whose settings a request is about: the grant's portal inside Bitrix24 (its administrators
   * only: its MTS account is among them), else `?portal=` or the only one installed. Undefined
   * once the refusal has been sent.
   */
  const settingsTarget = async (
    req: FastifyRequest<{ Querystring: Record<string, string | undefined> }>,
    reply: FastifyReply,
  ) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return void deny(deps, reply, a.why);
    const found = await portalFor(deps.conn, a.grant?.portalId ?? (req.query.portal || undefined));
    if (!('portal' in found))
      return void reply
        .code(found.status)
        .send({ error: errorName(found.status), message: found.message });
    return { grant: a.grant, portal: found.portal };
  };

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/api/settings',
    async (req, reply) => {
      const target = await settingsTarget(req, reply);
      if (!target) return reply;
      return readSettings(deps.conn, target.portal, deps.settings);
    },
  );

  app.put<{ Querystring: Record<string, string | undefined> }>(
    '/api/settings',
    async (req, reply) => {
      const target = await settingsTarget(req, reply);
      if (!target) return reply;
      const { grant, portal } = target;
      const parsed = settingsBody.safeParse(req.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.join('.') || 'body';
        return reply.code(400).send({
          error: 'bad_request',
          message:
            issue?.code === 'unrecognized_keys'
              ? `${where === 'body' ? '' : `${where}: `}unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ')}`
              : `${where}: ${issue?.message ?? 'invalid'}`,
        });
      }
      let change: SettingsChange;
      const input = settingsInput(parsed.data);
      const existing = await getContract(deps.conn, portalContractId(portal.id));
      try {
        if (grant) checkPortalAdminChange(input, existing !== undefined);
        change = settingsChange(input, {
          secretKey: deps.settings.secretKey,
          existing,
          name: apiFieldName,
        });
      } catch (err) {
        if (err instanceof SettingsForbiddenError)
          return reply.code(403).send({ error: 'forbidden', message: err.message });
        if (err instanceof InputError) return badInput(reply, err);
        throw err;
      }
      await applySettings(deps.conn, portal, change, deps.clock.now());
      const sendersChanged = change.patch.senders !== undefined;
      // New Sender IDs are providers in Bitrix24: register them now. The settings are saved
      // either way; when Bitrix24 cannot be reached, `register` (or the next update) does it.
      let registration: { ok: true } | { ok: false; error: string } | undefined;
      if (sendersChanged)
        registration = await deps.register(portal.id).then(
          () => ({ ok: true as const }),
          (err: unknown) => ({
            ok: false as const,
            error: `Bitrix24 did not take the providers: ${err instanceof Error ? err.message : String(err)}. The settings are saved; run \`b24-mts-sms register\` later.`,
          }),
        );
      const after = (await getPortal(deps.conn, portal.id)) ?? portal;
      return {
        ...(await readSettings(deps.conn, after, deps.settings)),
        ...(registration ? { registration } : {}),
      };
    },
  );

  // Campaigns (created with `campaign create`): the list with each one's estimate and
  // progress, one campaign, and its moves.
  const campaignView = async (c: Awaited<ReturnType<AdminDeps['campaigns']['list']>>[number]) => ({
    id: c.id,
    portalId: c.portal_id,
    name: c.name,
    state: c.state,
    senderId: c.alpha_name,
    text: c.template,
    source: c.source,
    estimate: {
      recipients: c.recipients,
      excluded: JSON.parse(c.excluded) as Record<string, number>,
      parts: c.parts,
      cost: c.cost,
      durationSeconds: c.duration_s,
    },
    sendAt: c.send_at,
    createdAt: c.created_at,
    startedAt: c.started_at,
    finishedAt: c.finished_at,
    progress: await deps.campaigns.status(c.id),
  });
  const campaignOf = async (a: Access, raw: string) => {
    const id = Number(raw);
    if (!Number.isInteger(id) || id <= 0) return undefined;
    const c = await getCampaign(deps.conn, id);
    return c && (!a.ok || !a.grant || c.portal_id === a.grant.portalId) ? c : undefined;
  };
  app.get('/api/campaigns', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    const list = (await deps.campaigns.list(a.grant?.portalId)).slice(0, 100);
    return Promise.all(list.map(campaignView));
  });
  app.get<{ Params: { id: string } }>('/api/campaigns/:id', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    const c = await campaignOf(a, req.params.id);
    if (!c) return reply.code(404).send({ error: 'not_found', message: 'No such campaign.' });
    return campaignView(c);
  });
  app.post<{ Params: { id: string; move: string } }>(
    '/api/campaigns/:id/:move',
    async (req, reply) => {
      const a = portalAdmin(await access(deps, req));
      if (!a.ok) return deny(deps, reply, a.why);
      const move = req.params.move;
      if (move !== 'start' && move !== 'pause' && move !== 'resume' && move !== 'cancel')
        return reply.code(404).send({
          error: 'not_found',
          message: 'A campaign can be started, paused, resumed or cancelled.',
        });
      const c = await campaignOf(a, req.params.id);
      if (!c) return reply.code(404).send({ error: 'not_found', message: 'No such campaign.' });
      try {
        const moved = await deps.campaigns[move](c.id);
        return campaignView(moved);
      } catch (err) {
        if (err instanceof CampaignError)
          return reply.code(409).send({ error: 'conflict', message: err.message });
        throw err;
      }
    },
  );

  // The phone base: the last `phones scan` of each portal, and its report as a download.
  app.get('/api/phones/scans', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    const scans = await listPhoneScans(deps.conn, a.grant?.portalId);
    return scans.map((s) => ({
      id: Number(s.id),
      portalId: s.portal_id,
      state: s.state,
      startedAt: Number(s.started_at),
      finishedAt: s.finished_at === null ? null : Number(s.finished_at),
      tally: s.tally ? JSON.parse(s.tally) : null,
      error: s.error,
      report: s.state === 'done' ? `/api/phones/scans/${s.id}/report.csv` : null,
    }));
  });
  app.get<{ Params: { id: string } }>('/api/phones/scans/:id/report.csv', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    const id = Number(req.params.id);
    const scan = Number.isInteger(id) && id > 0 ? await getPhoneScan(deps.conn, id) : undefined;
    if (scan?.state !== 'done' || (a.grant && scan.portal_id !== a.grant.portalId))
      return reply.code(404).send({ error: 'not_found', message: 'No such finished scan.' });
    const conn = deps.conn;
    // Streamed a few chunks at a time: a report of a large CRM is never held whole.
    async function* lines() {
      yield `${CSV_HEADER}\n`;
      let after = 0;
      for (;;) {
        const chunks = await phoneScanChunks(conn, id, after, 20);
        for (const c of chunks) yield c.text;
        if (chunks.length < 20) return;
        after = (chunks.at(-1) as { seq: number }).seq;
      }
    }
    const day = minskDate(Number(scan.started_at));
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="phones-scan-${day}.csv"`);
    return reply.send(Readable.from(lines()));
  });

  app.post('/api/test-sms', async (req, reply) => {
    const a = portalAdmin(await access(deps, req));
    if (!a.ok) return deny(deps, reply, a.why);
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<
      string,
      unknown
    >;
    // Whose test: the page's portal inside Bitrix24; standalone, the portal named (or none).
    let portalId: string | null = a.grant?.portalId ?? null;
    if (!a.grant && typeof body.portal === 'string' && body.portal !== '') {
      const found = await portalFor(deps.conn, body.portal);
      if (!('portal' in found))
        return reply.code(400).send({ error: 'bad_request', message: `portal: ${found.message}` });
      portalId = found.portal.id;
    }
    return answer(reply, () =>
      deps.testSms({ to: body.to, text: body.text, portalId, requestId: req.id }),
    );
  });

  app.get<{ Params: { id: string } }>('/api/messages/:id', async (req, reply) => {
    const a = await access(deps, req);
    if (!a.ok) return deny(deps, reply, a.why);
    const h = await messageHistory(deps.conn, req.params.id);
    // Inside Bitrix24, another portal's message (or, in a card tab, another record's) is
    // not there at all.
    if (!h || (a.grant && !(await deps.app.visible(a.grant, req.params.id))))
      return reply.code(404).send({ error: 'not_found', message: 'No such message.' });
    return h;
  });

  // The app's page inside Bitrix24 (the local application's handler path, and the CRM card
  // tabs it binds). Bitrix24 opens it with a form POST carrying the user's AUTH_ID; nothing is
  // shown before that is verified (core/verifyAppOpen.ts). Then the page gets a grant for this
  // portal (and, in a card tab, this record) to call the API with. A plain GET shows no data.
  app.post('/b24/app', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const f = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const field = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
    const lang = langOf(q.LANG ?? field('LANG'));
    // Each answer is for this open alone (a grant, or a refusal): never kept by a cache.
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const verified = await deps.app.open({
      memberId: field('member_id') ?? '',
      authId: field('AUTH_ID') ?? '',
      applicationToken: field('APPLICATION_TOKEN'),
      placement: field('PLACEMENT') ?? 'DEFAULT',
      placementOptions: field('PLACEMENT_OPTIONS'),
    });
    if (!verified.ok) {
      req.log.warn({ reason: verified.reason }, 'app page request refused');
      reply.code(403);
      return notePage(
        lang,
        deps.sandbox,
        `<p class="error">${escapeHtml(`${APP_PAGE.refused[lang]} (${verified.reason})`)}</p>`,
      );
    }
    const portal = verified.portal;
    const now = deps.clock.now();
    // The whole portal's figures and messages are for its administrators; other users see
    // the SMS tab of the CRM cards they may open.
    if (!verified.admin && !verified.record)
      return notePage(lang, deps.sandbox, `<p>${escapeHtml(APP_PAGE.adminsOnly[lang])}</p>`);
    const phones = verified.record
      ? await deps.app
          .recordPhones(portal, verified.record, field('AUTH_ID') ?? '')
          .catch((err: unknown) => {
            req.log.warn({ err }, 'the CRM record of a card tab could not be read');
            return [];
          })
      : undefined;
    const grant: AppGrant = {
      portalId: portal.id,
      userId: verified.userId,
      admin: verified.admin,
      ...(verified.record ? { record: verified.record, phones } : {}),
      expiresAt: now + APP_TOKEN_TTL_MS,
    };
    // Shown in an iframe on the portal: framing allowed for that portal only.
    reply.header('content-security-policy', `frame-ancestors ${portalOrigins(portal)}`);
    return pageOr(reply, {
      lang,
      sandbox: deps.sandbox,
      view: verified.record ? 'card' : 'app',
      token: issueAppToken(deps.app.secret, grant),
      admin: verified.admin,
    });
  });
  app.get('/b24/app', async (req, reply) => {
    const lang = langOf((req.query as Record<string, string | undefined>).LANG);
    reply.type('text/html; charset=utf-8');
    return notePage(lang, deps.sandbox, `<p>${APP_PAGE.installed[lang]}</p>`);
  });

  // The admin page standalone: the page itself holds no data; it logs in and reads the API.
  app.get('/', async (req, reply) => {
    // An operator's page: never inside another site's frame.
    reply.header('content-security-policy', "frame-ancestors 'none'");
    return pageOr(reply, {
      lang: langOfAcceptLanguage(req.headers['accept-language']),
      sandbox: deps.sandbox,
      view: 'standalone',
    });
  });
  registerWebAssets(app);
}

/**
 * Where the portal's pages are served from: `https://<domain>`, and the origin of the REST
 * address it installed with when that is the same host (a box portal on http) or loopback
 * (the Bitrix24 emulator). A stored domain that is not a plain host name allows no framing.
 */
function portalOrigins(portal: Portal): string {
  if (!PORTAL_DOMAIN.test(portal.domain)) return "'none'";
  const origins = [`https://${portal.domain}`];
  try {
    const own = new URL(portal.client_endpoint);
    const sameHost = own.host === portal.domain;
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(own.hostname);
    if ((sameHost || loopback) && !origins.includes(own.origin)) origins.push(own.origin);
  } catch {
    // no usable endpoint: the domain alone
  }
  return origins.join(' ');
}

/** The built page with its `<meta>` tags, or a note that it has not been built. */
function pageOr(reply: FastifyReply, meta: PageMeta) {
  const html = pageHtml(meta);
  reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
  if (html === undefined) return reply.code(503).send(PAGE_NOT_BUILT);
  return html;
}

/**
 * A short page of words inside Bitrix24 (a refusal, the note for non-administrators, the page
 * a plain GET gets): no data, no grant.
 */
function notePage(lang: 'ru' | 'en', sandbox: boolean, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${PRODUCT[lang]}</title>
<style>body{font:15px system-ui,sans-serif;margin:1.5rem;max-width:44rem}.error{color:#b00}</style></head><body>
<h1>${PRODUCT[lang]}</h1>${sandbox ? `<p><b>${APP_PAGE.sandbox[lang]}</b></p>` : ''}
${body}</body></html>`;
}

function badInput(reply: FastifyReply, err: InputError) {
  return reply.code(400).send({ error: 'bad_request', message: err.message });
}

/** The answer of `run`, or a 400 with the message when the input was wrong. */
async function answer<T>(reply: FastifyReply, run: () => Promise<T>) {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InputError) return badInput(reply, err);
    throw err;
  }
}

function errorName(status: 400 | 404): 'bad_request' | 'not_found' {
  return status === 400 ? 'bad_request' : 'not_found';
}
