import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeTokenEqual } from '../../bitrix24/inbound.js';
import type { Clock } from '../../clock.js';
import type { Backlog } from '../../core/backlog.js';
import { findMessages, messageHistory, SearchInputError } from '../../core/history.js';
import { minskDayStart } from '../../domain/minskTime.js';
import { langOf } from '../../i18n/lang.js';
import { APP_PAGE, PRODUCT } from '../../i18n/texts.js';
import { type Connection, countByState, listPortals, queueDepth } from '../../store/index.js';

export interface AdminDeps {
  conn: Connection;
  clock: Clock;
  /** ADMIN_TOKEN; without it the API is closed, except in sandbox mode. */
  adminToken: string | undefined;
  sandbox: boolean;
  sendingStatus: () => { pausedUntil: number | null; pauseReason: string | null; inFlight: number };
  /** The waiting work explained (core/backlog.ts readBacklog). */
  backlog: (now: number) => Promise<Backlog>;
}

function authorized(deps: AdminDeps, req: FastifyRequest): boolean {
  if (!deps.adminToken) return deps.sandbox;
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ')
    ? header.slice(7)
    : ((req.query as Record<string, string>).token ?? '');
  return timingSafeTokenEqual(token, deps.adminToken);
}

function deny(deps: AdminDeps, reply: FastifyReply) {
  return reply.code(401).send({
    error: 'unauthorized',
    message: deps.adminToken
      ? 'Send Authorization: Bearer <ADMIN_TOKEN>.'
      : 'Set ADMIN_TOKEN to use the admin API.',
  });
}

async function overview(deps: AdminDeps) {
  const now = deps.clock.now();
  const portals = await listPortals(deps.conn);
  return {
    sandbox: deps.sandbox,
    database: deps.conn.caps.name,
    sending: deps.sendingStatus(),
    queue: await queueDepth(deps.conn, now),
    // On demand only (a person opened the page): the one count here that reads history.
    messagesByState: await countByState(deps.conn),
    backlog: await deps.backlog(now),
    portals: portals.map((p) => ({
      id: p.id,
      domain: p.domain,
      status: p.status,
      registeredAt: p.registered_at,
    })),
  };
}

/** `/api/…` (JSON, ADMIN_TOKEN) and `GET /` (a status page). */
export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/api/overview', async (req, reply) =>
    authorized(deps, req) ? overview(deps) : deny(deps, reply),
  );

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/api/messages',
    async (req, reply) => {
      if (!authorized(deps, req)) return deny(deps, reply);
      const q = req.query;
      const limit = Math.min(500, Math.max(1, Number(q.limit ?? 50) || 50));
      try {
        const day = (name: 'from' | 'to') => {
          const v = q[name];
          if (v === undefined || v === '') return undefined;
          const start = minskDayStart(v);
          if (start === undefined)
            throw new SearchInputError(`${name}: expected a date YYYY-MM-DD, got "${v}"`);
          return name === 'to' ? start + 86_400_000 : start;
        };
        return await findMessages(deps.conn, {
          limit,
          phone: q.phone,
          state: q.state || undefined,
          from: day('from'),
          to: day('to'),
          sender: q.sender || undefined,
          campaign: q.campaign || undefined,
        });
      } catch (err) {
        if (err instanceof SearchInputError)
          return reply.code(400).send({ error: 'bad_request', message: err.message });
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string } }>('/api/messages/:id', async (req, reply) => {
    if (!authorized(deps, req)) return deny(deps, reply);
    const h = await messageHistory(deps.conn, req.params.id);
    if (!h) return reply.code(404).send({ error: 'not_found', message: 'No such message.' });
    return h;
  });

  // The app's page inside Bitrix24 (the local application's handler path). Bitrix24 opens it
  // with a POST carrying the user's token and `?LANG=` (the user's language); it shows no
  // message data, only where things are.
  const inPortal = async (req: FastifyRequest, reply: FastifyReply) => {
    const lang = langOf((req.query as Record<string, string | undefined>).LANG);
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${PRODUCT[lang]}</title>
<style>body{font:15px system-ui,sans-serif;margin:1.5rem;max-width:44rem}</style></head><body>
<h1>${PRODUCT[lang]}</h1>${deps.sandbox ? `<p><b>${APP_PAGE.sandbox[lang]}</b></p>` : ''}
<p>${APP_PAGE.installed[lang]}</p>
<p>${APP_PAGE.statuses[lang]}</p></body></html>`;
  };
  app.get('/b24/app', inPortal);
  app.post('/b24/app', inPortal);

  app.get('/', async (req, reply) => {
    const open = authorized(deps, req);
    const o = open ? await overview(deps) : null;
    const banner = deps.sandbox
      ? '<p class="sandbox">SANDBOX MODE — built-in emulators stand in for MTS and Bitrix24. No real SMS is sent.</p>'
      : '';
    const body = o
      ? `<h2>Messages</h2><table>${Object.entries(o.messagesByState)
          .map(([s, n]) => `<tr><td>${s}</td><td>${n}</td></tr>`)
          .join('')}</table>
<p>Queued: ${o.queue.queued} (due now ${o.queue.due})${o.sending.pausedUntil ? ` — <b>sending paused</b>: ${escapeHtml(o.sending.pauseReason ?? '')}` : ''}</p>
<h2>Backlog</h2>${o.backlog.lines.length ? `<ul>${o.backlog.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '<p>nothing waits</p>'}
<h2>Portals</h2><ul>${o.portals.map((p) => `<li>${escapeHtml(p.domain)} — ${p.status}${p.registeredAt ? ', provider registered' : ', <b>not registered</b>'}</li>`).join('') || '<li>none installed yet</li>'}</ul>`
      : '<p>Add <code>?token=ADMIN_TOKEN</code> to see the status.</p>';
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>b24-mts-sms</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:50rem}.sandbox{background:#ffe08a;padding:.8rem;font-weight:bold;border:2px solid #c90}td{padding:.2rem 1rem .2rem 0}</style>
</head><body><h1>MTS Belarus SMS for Bitrix24</h1>${banner}${body}</body></html>`;
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
