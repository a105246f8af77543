import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  parseInstallEvent,
  parseSmsHandlerRequest,
  type SmsHandlerRequest,
  timingSafeTokenEqual,
} from '../../bitrix24/inbound.js';
import type { RefreshedTokens } from '../../bitrix24/oauth.js';
import type { Clock } from '../../clock.js';
import type { IntakeResult, SenderChoice, SmsRequest } from '../../core/intake.js';
import { SENDER_CODE } from '../../core/register.js';
import type { Connection } from '../../store/dialects/types.js';
import {
  getPortal,
  getPortalByHandlerKey,
  markUninstalled,
  type Portal,
  upsertPortal,
} from '../../store/portals.js';
import type { Metrics } from '../metrics.js';

export interface Bitrix24RouteDeps {
  conn: Connection;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Alpha name and marketing quiet hours for a portal (its settings, else the configuration). */
  senderFor: (portal: Portal, kind: 'transactional' | 'marketing') => Promise<SenderChoice>;
  /**
   * Marketing consent from local data (opt-outs, the registry) at intake: a known "no" fails
   * the message at once, even in quiet hours; an unknown number is checked before sending.
   */
  consentAtIntake?: (
    portalId: string,
    phone: string,
  ) => Promise<{ allowed: true } | { allowed: false; reason: string }>;
  /** Validates and commits one SMS (group commit: resolves once durable). */
  intake: (req: SmsRequest, now: number) => Promise<IntakeResult>;
  /** Registers the provider (and robots) in the portal; runs after the install is stored. */
  register: (portal: Portal) => Promise<unknown>;
  /**
   * Proves an install is genuine: refreshes its refresh token at our configured OAuth server
   * with our client credentials (only tokens issued to this app refresh). Returns the fresh
   * pair and whom the server says it belongs to, or throws.
   */
  verifyInstall: (refreshToken: string) => Promise<RefreshedTokens>;
  /** Our OAuth server's REST base (`{B24_OAUTH_URL}/rest/`), stored for later refreshes. */
  oauthServerEndpoint: string;
  /** A message was queued: wake the sender. */
  onQueued: () => void;
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: 'invalid_request', message });
}

export function bitrix24Routes(app: FastifyInstance, deps: Bitrix24RouteDeps): void {
  /** Installation (ONAPPINSTALL) and the app events we subscribe to (ONAPPUPDATE, ONAPPUNINSTALL). */
  const onAppEvent = async (req: FastifyRequest, reply: FastifyReply) => {
    // Throws ValidationError → 400 with the field named (app error handler).
    const ev = parseInstallEvent(req.body);
    const now = deps.clock.now();
    const existing = await getPortal(deps.conn, ev.memberId);
    // After the first install, events must carry the application_token we stored.
    if (existing?.application_token && ev.event !== 'ONAPPINSTALL') {
      if (
        !ev.applicationToken ||
        !timingSafeTokenEqual(ev.applicationToken, existing.application_token)
      ) {
        req.log.warn(
          { memberId: ev.memberId, event: ev.event },
          'app event with a wrong application_token refused',
        );
        return reply
          .code(403)
          .send({ error: 'forbidden', message: 'application_token does not match this portal' });
      }
    }
    if (ev.event === 'ONAPPUNINSTALL') {
      if (existing) await markUninstalled(deps.conn, existing.id, now);
      return { ok: true };
    }
    const knownApp = Boolean(
      existing?.status === 'active' &&
        existing.application_token &&
        ev.applicationToken &&
        timingSafeTokenEqual(ev.applicationToken, existing.application_token),
    );
    if (!ev.tokens) {
      // An event without a user carries no tokens (events/index.md): for a portal we serve,
      // with its application_token, register again with the tokens we hold.
      if (ev.event === 'ONAPPUPDATE' && knownApp && existing) {
        try {
          await deps.register(existing);
        } catch (err) {
          req.log.error(
            { err, portalId: existing.id },
            'registration after ONAPPUPDATE failed; run `b24-mts-sms register`',
          );
          return reply
            .code(502)
            .send({ error: 'registration_failed', message: (err as Error).message });
        }
        return { ok: true, portal: existing.domain };
      }
      return badRequest(reply, `${ev.event} without auth[access_token] / auth[refresh_token]`);
    }
    // Anyone can POST an install form. Before it is stored (and we register a HANDLER that
    // carries a secret key at the endpoint it names), its refresh token must refresh at our
    // OAuth server with our client credentials, for the same member_id. The endpoint we keep
    // is the one the OAuth server reports, not the one posted. The one exception: an event
    // for a portal we serve that carries the application_token we already hold.
    let tokens = {
      accessToken: ev.tokens.accessToken,
      refreshToken: ev.tokens.refreshToken,
      expiresAt: now + ev.tokens.expiresIn * 1000,
    };
    let clientEndpoint = ev.clientEndpoint;
    if (!knownApp) {
      try {
        const fresh = await deps.verifyInstall(ev.tokens.refreshToken);
        if (fresh.memberId && fresh.memberId !== ev.memberId)
          throw new Error(`the tokens belong to member_id ${fresh.memberId}`);
        tokens = {
          accessToken: fresh.accessToken,
          refreshToken: fresh.refreshToken,
          expiresAt: fresh.expiresAt,
        };
        clientEndpoint = fresh.clientEndpoint ?? ev.clientEndpoint;
      } catch (err) {
        req.log.warn(
          { memberId: ev.memberId, event: ev.event, err: (err as Error).message },
          'install that could not be verified refused',
        );
        return reply.code(403).send({
          error: 'forbidden',
          message: 'this install could not be verified with the Bitrix24 OAuth server',
        });
      }
    }
    const portal = await upsertPortal(
      deps.conn,
      {
        id: ev.memberId,
        domain: ev.domain,
        clientEndpoint,
        serverEndpoint: deps.oauthServerEndpoint,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt,
        applicationToken: ev.applicationToken ?? null,
      },
      now,
    );
    try {
      await deps.register(portal);
    } catch (err) {
      // The portal is stored: `b24-mts-sms register` (or the next ONAPPUPDATE) finishes the job.
      req.log.error(
        { err, portalId: portal.id },
        'portal stored but registration in Bitrix24 failed; run `b24-mts-sms register`',
      );
      return reply.code(502).send({
        error: 'registration_failed',
        message: `Installed, but registering the SMS provider failed: ${(err as Error).message}. Run \`npx b24-mts-sms register\`.`,
      });
    }
    return { ok: true, portal: portal.domain };
  };
  app.post('/b24/install', onAppEvent);
  app.post('/b24/events', onAppEvent);

  /** The messageservice HANDLER: Bitrix24 does not read the reply and never retries. */
  app.post<{ Params: { key: string } }>('/b24/sms/:key', async (req, reply) => {
    const end = deps.metrics.intakeLatency.startTimer();
    const portal = await getPortalByHandlerKey(deps.conn, req.params.key);
    if (!portal) {
      deps.metrics.intake.inc({ source: 'handler', outcome: 'forbidden' });
      return reply.code(401).send({ error: 'unauthorized', message: 'Unknown handler key.' });
    }
    let sms: SmsHandlerRequest;
    try {
      sms = parseSmsHandlerRequest(req.body);
    } catch (err) {
      deps.metrics.intake.inc({ source: 'handler', outcome: 'invalid' });
      req.log.warn(
        { portalId: portal.id, err: (err as Error).message },
        'malformed SMS handler request',
      );
      return badRequest(reply, (err as Error).message);
    }
    if (sms.auth?.applicationToken !== undefined) {
      if (
        !portal.application_token ||
        !timingSafeTokenEqual(sms.auth.applicationToken, portal.application_token)
      ) {
        deps.metrics.intake.inc({ source: 'handler', outcome: 'forbidden' });
        req.log.warn(
          { portalId: portal.id },
          'SMS handler request with a wrong application_token refused',
        );
        return reply
          .code(403)
          .send({ error: 'forbidden', message: 'application_token does not match this portal' });
      }
    }
    if (sms.auth?.memberId && sms.auth.memberId !== portal.id) {
      return reply
        .code(403)
        .send({ error: 'forbidden', message: 'member_id does not match this handler key' });
    }
    if (sms.code && sms.code !== SENDER_CODE) {
      return badRequest(
        reply,
        `unknown provider code "${sms.code}"; this handler serves "${SENDER_CODE}"`,
      );
    }
    const marketing = sms.moduleId === 'sender';
    const kind = marketing ? 'marketing' : 'transactional';
    const { alphaName, quietHours, route, maxParts } = await deps.senderFor(portal, kind);
    const consent =
      marketing && deps.consentAtIntake
        ? await deps.consentAtIntake(portal.id, sms.messageTo)
        : { allowed: true as const };
    const { message, created } = await deps.intake(
      {
        portalId: portal.id,
        b24MessageId: sms.messageId,
        source: sms.moduleId ?? 'unknown',
        kind,
        to: sms.messageTo,
        text: sms.messageBody,
        alphaName,
        quietHours,
        route,
        maxParts,
        ...(consent.allowed ? {} : { refuse: consent.reason }),
        bindings: sms.bindings.map((b) => ({ OWNER_TYPE_ID: b.ownerTypeId, OWNER_ID: b.ownerId })),
      },
      deps.clock.now(),
    );
    end();
    deps.metrics.intake.inc({
      source: sms.moduleId ?? 'unknown',
      outcome: created ? message.state : 'duplicate',
    });
    if (created && message.state === 'queued') deps.onQueued();
    if (created && message.state === 'failed') {
      req.log.info(
        { portalId: portal.id, messageId: message.id, reason: message.fail_reason },
        'SMS refused',
      );
    }
    return reply.code(200).send({
      ok: true,
      id: message.id,
      state: message.state,
      duplicate: !created,
      ...(message.fail_reason ? { reason: message.fail_reason } : {}),
    });
  });
}
