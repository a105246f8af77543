/**
 * Handler POSTs the way Bitrix24 makes them (SPEC §3: form-encoded, PHP-style keys, with
 * `auth[...]` as for a message that has an author), and a bounded sender of such POSTs.
 */
import { randomBytes } from 'node:crypto';
import qs from 'qs';
import type { AuthFields } from '../child/emulatorProtocol.js';
import { sleep } from './time.js';

/** Share of Cyrillic (UCS-2) texts in generated traffic. */
export const CYRILLIC_SHARE = 0.3;

/**
 * A valid Belarus mobile number (+375 25/29/33/44) derived from `i`; distinct for
 * i < 20,000,000. Subscriber numbers 5xxxxxx–9xxxxxx, allocated under every code
 * (+375 25 1… and 2… are not).
 */
export function phoneFor(i: number): string {
  const code = ['29', '33', '44', '25'][i % 4];
  return `+375${code}${5_000_000 + (Math.floor(i / 4) % 5_000_000)}`;
}

/** 3 in 10 texts are Cyrillic (one UCS-2 part), the rest GSM-7. */
export function textFor(i: number): string {
  return i % 10 < CYRILLIC_SHARE * 10
    ? `Ваш заказ №${100000 + i} готов к выдаче. Спасибо, что выбрали нас!`
    : `Your order #${100000 + i} is ready for pickup. Thank you for choosing us!`;
}

export const newB24MessageId = () => randomBytes(16).toString('hex');

/** The body of one messageservice handler POST. */
export function handlerForm(i: number, messageId: string, auth: AuthFields): string {
  const to = phoneFor(i);
  const text = textFor(i);
  return qs.stringify({
    type: 'SMS',
    code: 'mts_sms_by',
    message_id: messageId,
    message_to: to,
    message_body: text,
    ts: String(Math.floor(Date.now() / 1000)),
    properties: { phone_number: to, message_text: text },
    module_id: 'crm',
    bindings: [{ OWNER_TYPE_ID: '3', OWNER_ID: String(1 + (i % 5000)) }],
    auth,
  });
}

export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

export interface PostResult {
  /** Answered 200. */
  ok: number;
  /** The `state` the handler reported, counted (diagnostics; Bitrix24 never reads the body). */
  states: Record<string, number>;
  failed: number;
  /** First few failures, for the report. */
  errors: string[];
  seconds: number;
}

/**
 * POSTs `bodies` to `url`, `concurrency` at a time, optionally paced to `perSecond` overall.
 * Bounded: every request has a 30 s deadline.
 */
export async function postAll(
  url: string,
  bodies: string[],
  opts: { concurrency: number; perSecond?: number },
): Promise<PostResult> {
  const started = performance.now();
  const res: PostResult = { ok: 0, states: {}, failed: 0, errors: [], seconds: 0 };
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const body = bodies[i];
      if (body === undefined) return;
      if (opts.perSecond) {
        const due = started + (i * 1000) / opts.perSecond;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      try {
        const r = await fetch(url, {
          method: 'POST',
          headers: FORM_HEADERS,
          body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await r.text();
        if (r.status === 200) {
          res.ok++;
          const state = stateOf(text);
          res.states[state] = (res.states[state] ?? 0) + 1;
        } else {
          res.failed++;
          if (res.errors.length < 5) res.errors.push(`HTTP ${r.status}: ${text.slice(0, 200)}`);
        }
      } catch (err) {
        res.failed++;
        if (res.errors.length < 5) res.errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  res.seconds = (performance.now() - started) / 1000;
  return res;
}

function stateOf(body: string): string {
  try {
    const state = (JSON.parse(body) as { state?: unknown }).state;
    return typeof state === 'string' ? state : '(no state)';
  } catch {
    return '(not JSON)';
  }
}

/** Throws unless every POST was answered 200 with a queued message. */
export function expectAllQueued(r: PostResult, n: number): void {
  const queued = r.states.queued ?? 0;
  if (r.failed || queued !== n)
    throw new Error(
      `intake: ${r.ok}/${n} answered 200, states ${JSON.stringify(r.states)}${r.errors.length ? `; ${r.errors.join('; ')}` : ''}`,
    );
}
