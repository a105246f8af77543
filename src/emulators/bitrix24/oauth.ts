import type { FastifyInstance } from 'fastify';
import type { EmulatorCore } from './core.js';
import { sendOutage } from './outage.js';

/**
 * The OAuth server's token endpoint (`settings/oauth/auto-renewal.md`):
 * `GET /oauth/token/?grant_type=refresh_token&client_id&client_secret&refresh_token`
 * (POST with a form is accepted too). Each refresh spends the refresh token.
 */
export function registerOAuth(app: FastifyInstance, core: EmulatorCore): void {
  app.route({
    method: ['GET', 'POST'],
    url: '/oauth/token/',
    handler: async (req, reply) => {
      core.state.oauthRequests += 1;
      if (core.faults.outage) return sendOutage(reply);
      const q = {
        ...(req.query as Record<string, unknown>),
        ...(req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {}),
      };
      const s = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '');
      if (s('grant_type') !== 'refresh_token') {
        return reply.code(400).send({
          error: 'invalid_request',
          error_description: 'Only grant_type=refresh_token is emulated',
        });
      }
      if (
        s('client_id') !== core.identity.clientId ||
        s('client_secret') !== core.identity.clientSecret
      ) {
        return reply
          .code(401)
          .send({ error: 'invalid_client', error_description: 'Invalid client data' });
      }
      const pair = core.tokens.rotate(s('refresh_token'));
      if (!pair) {
        return reply.code(400).send({ error: 'invalid_grant', error_description: 'Invalid grant' });
      }
      return reply.send({
        access_token: pair.accessToken,
        client_endpoint: core.restBase,
        // As on oauth.bitrix.info: this is the OAuth server's domain, not the portal's.
        domain: new URL(core.url).host,
        expires: Math.floor(pair.expiresAt / 1000),
        expires_in: pair.expiresIn,
        member_id: core.identity.memberId,
        refresh_token: pair.refreshToken,
        scope: 'app',
        server_endpoint: core.restBase,
        status: 'L',
      });
    },
  });
}
