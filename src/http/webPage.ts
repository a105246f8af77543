import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Lang } from '../i18n/lang.js';
import { escapeHtml } from './html.js';

/**
 * The admin page: the Vue app of `web/`, built into `web/dist` (`npm run build`) and shipped
 * with the package. Its scripts and styles are served under `/app/assets/` (hashed names,
 * cached for good); its `index.html` is served by the page routes with what the server knows
 * put in as `<meta>` tags: the language, sandbox mode, and inside Bitrix24 the grant.
 */
export const WEB_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface PageMeta {
  lang: Lang;
  sandbox: boolean;
  /** `app` (the app inside Bitrix24), `card` (a CRM card's SMS tab) or `standalone`. */
  view: 'app' | 'card' | 'standalone';
  /** The grant of a page opened by Bitrix24 (http/appToken.ts). */
  token?: string;
  /** Whether the Bitrix24 user who opened it administers the portal. */
  admin?: boolean;
}

/** The page's HTML, or undefined when the page has not been built. */
export function pageHtml(meta: PageMeta): string | undefined {
  let html: string;
  try {
    // Read per request (half a kilobyte): a rebuilt page is served without a restart.
    html = readFileSync(`${WEB_DIR}index.html`, 'utf8');
  } catch {
    return undefined;
  }
  const tags = [
    ['b24mts-lang', meta.lang],
    ['b24mts-sandbox', String(meta.sandbox)],
    ['b24mts-view', meta.view],
    ...(meta.token ? [['b24mts-app-token', meta.token]] : []),
    ...(meta.admin === undefined ? [] : [['b24mts-admin', String(meta.admin)]]),
  ]
    .map(([n, v]) => `<meta name="${n}" content="${escapeHtml(v as string)}">`)
    .join('\n    ');
  return html
    .replace(/<html lang="[a-z]+"/, () => `<html lang="${meta.lang}"`)
    .replace('</head>', () => `    ${tags}\n  </head>`);
}

/** What `/` answers when `web/dist` is missing (a checkout run with tsx before any build). */
export const PAGE_NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>b24-mts-sms</title></head>
<body style="font:15px system-ui,sans-serif;margin:2rem"><h1>MTS Belarus SMS for Bitrix24</h1>
<p>The admin page has not been built: run <code>npm run build</code> in the project folder, then reload.
The JSON API under <code>/api/</code> works meanwhile (docs/api.md).</p></body></html>`;

/** Serves the page's built scripts and styles, when built. */
export function registerWebAssets(app: FastifyInstance): void {
  const root = `${WEB_DIR}assets`;
  if (!existsSync(root)) return;
  app.register(fastifyStatic, {
    root,
    prefix: '/app/assets/',
    decorateReply: false,
    index: false,
    // Names carry a content hash: a new build gets new names.
    immutable: true,
    maxAge: '365d',
  });
}
