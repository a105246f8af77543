import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  parseInstallEvent,
  parseSmsHandlerRequest,
  type SmsHandlerRequest,
  timingSafeTokenEqual,
} from '../../bitrix24/inbound.js';
import type { Clock } from '../../clock.js';
import type { IntakeResult, SenderChoice, SmsRequest } from '../../core/intake.js';
import { alphaForCode, providerCode, SENDER_CODE } from '../../core/register.js';
import { type OAuthVerifier, verifyAppEvent } from '../../core/verifyInstall.js';
import {
  type Connection,
  getPortal,
  getPortalByHandlerKey,
  markUninstalled,
  type Portal,
  portalSettings,
  updatePortalSettings,
  upsertPortal,
} from '../../store/index.js';
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
   * Our app's credentials and the trusted OAuth servers (B24_OAUTH_URL): every install and
   * update with tokens is verified there before anything is stored.
   */
  oauth: OAuthVerifier;
  /** A message was queued: wake the sender. */
  onQueued: () => void;
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: 'invalid_request', message });
}

export function bitrix24Routes(app: FastifyInstance, deps: Bitrix24RouteDeps): void {
  /** Installation (ONAPPINSTALL) and the app events we subscribe to (ONAPPUPDATE, ONAPPUNINSTALL). */
  const onAppEvent = async (req: FastifyRequest, reply: FastifyReply) => {
    // The install page form carries DOMAIN, PROTOCOL and LANG in its query string.
    const input =
      req.body && typeof req.body === 'object' && !Array.isArray(req.body)
        ? { ...(req.query as Record<string, unknown>), ...(req.body as Record<string, unknown>) }
        : req.body;
    // Throws ValidationError → 400 with the field named (app error handler).
    const ev = parseInstallEvent(input);
    const now = deps.clock.now();
    const existing = await getPortal(deps.conn, ev.memberId);
    const storedToken = existing?.application_token ?? undefined;
    const tokenMatches = timingSafeTokenEqual(ev.applicationToken, storedToken);
    const forbidden = (message: string) => reply.code(403).send({ error: 'forbidden', message });

    if (ev.event === 'ONAPPUNINSTALL') {
      if (storedToken && !tokenMatches) {
        req.log.warn(
          { memberId: ev.memberId },
          'ONAPPUNINSTALL with a wrong application_token refused',
        );
        return forbidden('application_token does not match this portal');
      }
      if (existing) await markUninstalled(deps.conn, existing.id, now);
      return { ok: true };
    }

    if (!ev.tokens) {
      // An event without a user carries no tokens (events/index.md). It cannot be verified,
      // so it may only repeat what we know: ONAPPUPDATE from a portal we serve, with the
      // application_token we hold, re-registers with the stored tokens. A new
      // application_token must come with tokens that prove it.
      if (ev.event === 'ONAPPUPDATE' && existing?.status === 'active' && tokenMatches) {
        return registerOr502(req, reply, existing, 'ONAPPUPDATE');
      }
      if (existing && storedToken && !tokenMatches) {
        req.log.warn(
          { memberId: ev.memberId, event: ev.event },
          `${ev.event} with a new application_token but no tokens to verify it refused`,
        );
        return forbidden(
          'application_token does not match this portal, and the event carries no tokens to verify a new one',
        );
      }
      return badRequest(reply, `${ev.event} without auth[access_token] / auth[refresh_token]`);
    }

    // Anyone can POST an install form. Before it is stored (and we register a HANDLER that
    // carries a secret key at the endpoint it names), it is verified at a trusted OAuth
    // server — every time, a reinstall or update of a portal we know included: an old
    // application_token proves nothing about a new one.
    const verified = await verifyAppEvent(deps.oauth, ev, now, existing?.client_endpoint);
    if (!verified.ok) {
      req.log.warn(
        { memberId: ev.memberId, event: ev.event, reason: verified.reason },
        'app event that could not be verified refused',
      );
      return forbidden(`this ${ev.event} could not be verified: ${verified.reason}`);
    }
    const portal = await upsertPortal(
      deps.conn,
      {
        id: ev.memberId,
        domain: ev.domain,
        clientEndpoint: verified.clientEndpoint,
        serverEndpoint: verified.serverEndpoint,
        accessToken: verified.tokens.accessToken,
        refreshToken: verified.tokens.refreshToken,
        expiresAt: verified.tokens.expiresAt,
        // Bitrix24 issues a new application_token on reinstall and on update: keep the posted one.
        applicationToken: ev.applicationToken ?? null,
      },
      now,
    );
    await updatePortalSettings(
      deps.conn,
      portal.id,
      {
        adminUserId: verified.userId,
        ...(ev.language ? { detectedLanguage: ev.language } : {}),
      },
      now,
    );
    if (ev.event === 'ONAPPUPDATE')
      req.log.info({ portalId: portal.id }, 'app updated: new tokens and application_token stored');
    return registerOr502(req, reply, portal, ev.event);
  };

  /** Registers the provider; a failure leaves the portal stored and says how to finish. */
  const registerOr502 = async (
    req: FastifyRequest,
    reply: FastifyReply,
    portal: Portal,
    event: string,
  ) => {
    try {
      await deps.register(portal);
    } catch (err) {
      // The portal is stored: `b24-mts-sms register` (or the next ONAPPUPDATE) finishes the job.
      req.log.error(
        { err, portalId: portal.id, event },
        'portal stored but registration in Bitrix24 failed; run `b24-mts-sms register`',
      );
      return reply.code(502).send({
        error: 'registration_failed',
        message: `Stored, but registering the SMS provider failed: ${(err as Error).message}. Run \`npx b24-mts-sms register\`.`,
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
    // The provider the manager chose: ours by default, or the one of an extra Sender ID.
    const code = sms.code || SENDER_CODE;
    const settings = portalSettings(portal);
    const chosen = alphaForCode(settings, code);
    if (chosen === undefined) {
      const ours = [SENDER_CODE, ...(settings.senders ?? []).map(providerCode)];
      return badRequest(
        reply,
        `unknown provider code "${sms.code}"; this portal's providers are ${ours.join(', ')}`,
      );
    }
    const marketing = sms.moduleId === 'sender';
    const kind = marketing ? 'marketing' : 'transactional';
    const choice = await deps.senderFor(portal, kind);
    const { quietHours, route, maxParts } = choice;
    const alphaName = chosen ?? choice.alphaName;
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
        ...(chosen !== null ? { providerCode: code } : {}),
        ...(consent.allowed ? {} : { refuse: consent.reason }),
        bindings: sms.bindings.map((b) => ({ OWNER_TYPE_ID: b.ownerTypeId, OWNER_ID: b.ownerId })),
        requestId: req.id,
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
