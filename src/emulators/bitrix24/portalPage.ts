import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { escapeHtml } from '../../http/html.js';
import type { EmulatorCore } from './core.js';
import { appOpenRequest, sendFromCard } from './portalActions.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Whether a request comes from this machine; otherwise it is answered 403 here. These routes
 * hand out a portal user's token or act as one, whatever address the emulator listens on.
 */
function fromThisMachine(req: FastifyRequest, reply: FastifyReply): boolean {
  if (LOOPBACK.has(req.socket.remoteAddress ?? '')) return true;
  void reply.code(403).send({ error: 'forbidden', message: 'From this machine only.' });
  return false;
}

/**
 * `GET /app`: the emulated portal's page with the app inside, for a person (or a browser test)
 * to see the app as a Bitrix24 user does. Like Bitrix24, the page posts the open request
 * (a fresh AUTH_ID of the user, member_id, PLACEMENT…) as a form into an iframe:
 * `?placement=` `DEFAULT` (the app's own page, the default) or a bound widget such as
 * `CRM_CONTACT_DETAIL_TAB` with `&ID=` the record; `&user=2` opens it as the manager
 * (user 1, the administrator, by default). It answers requests from this machine only (it
 * hands out a portal user's token), whatever address the emulator listens on.
 */
export function registerPortalPage(app: FastifyInstance, core: EmulatorCore): void {
  registerCardSend(app, core);
  app.get<{ Querystring: Record<string, string | undefined> }>('/app', async (req, reply) => {
    if (!fromThisMachine(req, reply)) return reply;
    const placement = req.query.placement || 'DEFAULT';
    const userId = Number(req.query.user ?? 1);
    const handler =
      placement === 'DEFAULT'
        ? core.appBaseUrl && `${core.appBaseUrl}/b24/app`
        : [...core.state.placements.values()].find((p) => p.placement === placement)?.handler;
    reply.type('text/html; charset=utf-8');
    if (!handler)
      return reply
        .code(404)
        .send(
          placement === 'DEFAULT'
            ? 'No app is installed in this portal.'
            : `The app has bound no widget to ${escapeHtml(placement)}.`,
        );
    if (!core.state.users.has(userId))
      return reply.code(404).send(`No user ${escapeHtml(String(req.query.user))}.`);
    const { action, fields } = appOpenRequest(core, handler, {
      placement,
      userId,
      ...(req.query.ID ? { options: { ID: req.query.ID } } : {}),
    });
    const inputs = Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
      .join('');
    const user = core.state.users.get(userId);
    return `<!doctype html><html lang="${core.language}"><head><meta charset="utf-8">
<title>${escapeHtml(core.identity.domain)} — Bitrix24 emulator</title>
<style>body{margin:0;font:14px system-ui,sans-serif;background:#eef2f4}header{background:#2fc6f6;color:#fff;padding:10px 16px;font-weight:600}
iframe{display:block;border:0;width:calc(100% - 32px);height:calc(100vh - 76px);margin:16px;background:#fff;border-radius:12px}</style></head>
<body><header>Bitrix24 emulator · ${escapeHtml(core.identity.domain)} · ${escapeHtml(placement)}${req.query.ID ? ` #${escapeHtml(req.query.ID)}` : ''} · ${escapeHtml(`${user?.NAME ?? ''} ${user?.LAST_NAME ?? ''}`)}</header>
<iframe name="app" title="app"></iframe>
<form id="open" method="post" target="app" action="${escapeHtml(action)}">${inputs}</form>
<script>document.getElementById('open').submit()</script></body></html>`;
  });
}

/**
 * The emulated portal's CRM card, from another process on this machine (`b24-mts-sms send` in
 * sandbox mode): `POST /_emulator/send-from-card` `{ to, text, moduleId? }` sends an SMS the
 * way a manager's "Send" does — through the provider's handler, i.e. the running service —
 * and answers `{ messageId, status, body }` (the handler's answer); `GET
 * /_emulator/messages/:id` answers the statuses the service has set for it since
 * (`{ messageId, status, updates }`, `status` null until the first).
 */
function registerCardSend(app: FastifyInstance, core: EmulatorCore): void {
  app.post<{ Body: { to?: unknown; text?: unknown; moduleId?: unknown } }>(
    '/_emulator/send-from-card',
    async (req, reply) => {
      if (!fromThisMachine(req, reply)) return reply;
      const { to, text, moduleId } = req.body ?? {};
      if (typeof to !== 'string' || typeof text !== 'string')
        return reply
          .code(400)
          .send({ error: 'invalid_request', message: 'Give `to` and `text` as strings.' });
      if (![...core.state.senders.values()].length)
        return reply.code(409).send({
          error: 'no_provider',
          message: 'No SMS provider is registered in this portal: is the app installed?',
        });
      return sendFromCard(core, {
        to,
        text,
        ...(typeof moduleId === 'string' ? { moduleId } : {}),
      });
    },
  );
  app.get<{ Params: { id: string } }>('/_emulator/messages/:id', async (req, reply) => {
    if (!fromThisMachine(req, reply)) return reply;
    const updates = core.state.statusesOf(req.params.id);
    return { messageId: req.params.id, status: updates.at(-1) ?? null, updates };
  });
}
