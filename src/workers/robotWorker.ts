import type { Logger } from 'pino';
import type { BatchCommand, Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import { loadCrmDocument, parseDocumentId, pickMobilePhone } from '../core/crmDocument.js';
import type { SenderChoice } from '../core/intake.js';
import { intakeSms } from '../core/intake.js';
import { robotTraceCommand } from '../core/robotTrace.js';
import { parseSendAt } from '../domain/sendTime.js';
import { type MtsState, toBitrixStatus } from '../domain/status.js';
import { buildTemplateValues, renderTemplate } from '../domain/template.js';
import { coerceError } from '../errors.js';
import { type Lang, portalLang } from '../i18n/lang.js';
import { explainFailReason, explainUndelivered } from '../i18n/reasons.js';
import {
  type Connection,
  dueRobotAnswers,
  dueRobotJobs,
  failRobotJob,
  getPortal,
  inTransaction,
  portalSettings,
  type RobotAnswer,
  type RobotJob,
  takeRobotJob,
  updateRobotJob,
} from '../store/index.js';
import { idlePollMs } from './idlePolling.js';
import { makeSingletonLoop } from './singletonLoop.js';

function parseJson<T>(s: string): T | undefined {
  try {
    return JSON.parse(s) as T;
  } catch {
    return undefined;
  }
}

export interface RobotWorkerOptions {
  conn: Connection;
  api: Bitrix24Api;
  clock: Clock;
  logger: Logger;
  holder: string;
  /** Alpha name and quiet hours for a portal and message type. */
  senderFor: (portalId: string, kind: 'transactional' | 'marketing') => Promise<SenderChoice>;
  /** A message was queued. */
  onQueued?: () => void;
  /** Tick between scans (default: idlePollMs). */
  tickMs?: number;
  /** Give up loading a document after this many transient failures (default 20 ≈ hours). */
  maxAttempts?: number;
}

/** 2 s, 4 s … 10 min. */
function backoff(attempts: number): number {
  return Math.min(600_000, 2000 * 2 ** Math.min(attempts, 10));
}

/**
 * Robots: turns committed robot calls into SMS (load the CRM document, pick the mobile phone,
 * render the template, queue), then answers each robot with `bizproc.event.send` once its
 * message is accepted by MTS or has failed — or at once with the error, nothing sent.
 */
export function makeRobotWorker(opts: RobotWorkerOptions) {
  const log = opts.logger.child({ worker: 'robots' });
  const tickMs = opts.tickMs ?? idlePollMs(opts.conn);
  const maxAttempts = opts.maxAttempts ?? 20;

  /** The job's log lines carry the robot call's request id, as that request's own lines do. */
  const jobLog = (job: RobotJob) => (job.request_id ? log.child({ reqId: job.request_id }) : log);

  async function fail(job: RobotJob, error: string): Promise<void> {
    jobLog(job).info({ jobId: job.id, error }, 'robot refused; answering Bitrix24 with the error');
    await failRobotJob(opts.conn, job.id, error, opts.clock.now());
  }

  async function processJob(job: RobotJob): Promise<void> {
    const props = JSON.parse(job.properties) as Record<string, unknown>;
    const first = (v: unknown) => String(Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
    const template = first(props.text);
    const kind = first(props.message_type) === 'marketing' ? 'marketing' : 'transactional';
    let sendAt: number | undefined;
    try {
      sendAt = parseSendAt(props.send_at);
    } catch (err) {
      return fail(job, (err as Error).message);
    }
    if (!template.trim()) return fail(job, 'the robot has no SMS text');

    let doc: Awaited<ReturnType<typeof loadCrmDocument>>;
    try {
      doc = await loadCrmDocument(
        opts.api,
        job.portal_id,
        parseDocumentId(JSON.parse(job.document_id)),
      );
    } catch (err) {
      const e = coerceError(err);
      if (e.action === 'permanent') return fail(job, `cannot read the CRM document: ${e.message}`);
      if (job.attempts + 1 >= maxAttempts)
        return fail(job, `Bitrix24 did not answer for too long: ${e.message}`);
      const now = opts.clock.now();
      jobLog(job).warn(
        { jobId: job.id, err: e.message },
        'loading the CRM document failed; will retry',
      );
      await updateRobotJob(
        opts.conn,
        job.id,
        { attempts: job.attempts + 1, run_at: now + backoff(job.attempts), last_error: e.message },
        now,
      );
      return;
    }

    const rendered = renderTemplate(template, buildTemplateValues(doc));
    if (!rendered.ok) return fail(job, rendered.message);
    const override = first(props.phone).trim();
    const picked = override ? { ok: true as const, phone: override } : pickMobilePhone(doc);
    if (!picked.ok) return fail(job, picked.reason);

    const choice = await opts.senderFor(job.portal_id, kind);
    const { quietHours, route, maxParts } = choice;
    // A Sender ID chosen in the robot: one of the portal's extra ones (settings `senders`).
    const chosen = first(props.sender).trim();
    let alphaName = choice.alphaName;
    if (chosen && chosen !== alphaName) {
      const portal = await getPortal(opts.conn, job.portal_id);
      const allowed = (portal ? portalSettings(portal).senders : undefined) ?? [];
      if (!allowed.includes(chosen))
        return fail(
          job,
          `Sender ID "${chosen}" is not one of this portal's (${[alphaName, ...allowed].join(', ')})`,
        );
      alphaName = chosen;
    }
    const now = opts.clock.now();
    // The message and the job's link to it commit together: a crash between them cannot
    // leave a message the job does not know about (and would queue again).
    const message = await inTransaction(opts.conn, async (tconn) => {
      // Take the job first: if another worker already did, this transaction queues nothing.
      if (!(await takeRobotJob(tconn, job.id, now))) return null;
      const { message } = await intakeSms(
        tconn,
        {
          portalId: job.portal_id,
          b24MessageId: null,
          source: 'robot',
          kind,
          to: picked.phone,
          text: rendered.text,
          alphaName,
          quietHours,
          route,
          maxParts,
          ...(sendAt !== undefined ? { sendAt } : {}),
          ...(job.request_id ? { requestId: job.request_id } : {}),
        },
        now,
      );
      await updateRobotJob(
        tconn,
        job.id,
        {
          state: 'queued',
          message_id: message.id,
          event_state: 1,
          event_run_at: 0,
          last_error: null,
        },
        now,
      );
      return message;
    });
    if (!message) {
      jobLog(job).warn({ jobId: job.id }, 'robot job was already taken by another worker');
      return;
    }
    jobLog(job).info(
      { jobId: job.id, messageId: message.id, state: message.state, runAt: message.run_at },
      'robot SMS queued',
    );
    if (message.state === 'queued') opts.onQueued?.();
  }

  /** The robot's return values; an error in the portal's language (the workflow log shows it). */
  function answerOf(a: RobotAnswer, lang: Lang): Record<string, string> {
    if (a.job.state === 'failed')
      return {
        status: 'failed',
        message_id: '',
        error: explainFailReason(a.job.last_error ?? 'failed', lang).why,
      };
    const state = (a.messageState ?? 'failed') as MtsState | 'failed';
    const status = toBitrixStatus(state);
    const error =
      status === 'failed'
        ? explainFailReason(a.failReason ?? state, lang).why
        : status === 'undelivered'
          ? explainUndelivered(state, {}, lang).why
          : '';
    return { status, message_id: a.job.message_id ?? '', error };
  }

  async function portalTraceSettings(
    portalId: string,
  ): Promise<{ mode: 'log' | 'comment' | 'off'; lang: Lang }> {
    const p = await getPortal(opts.conn, portalId);
    const s = p ? portalSettings(p) : {};
    return { mode: s.robotTrace ?? 'log', lang: portalLang(s) };
  }

  async function sendAnswers(): Promise<void> {
    const now = opts.clock.now();
    const due = await dueRobotAnswers(opts.conn, now, 500);
    const byPortal = new Map<string, RobotAnswer[]>();
    for (const a of due)
      byPortal.set(a.job.portal_id, [...(byPortal.get(a.job.portal_id) ?? []), a]);
    for (const [portalId, list] of byPortal) {
      for (let i = 0; i < list.length; i += 50) {
        const chunk = list.slice(i, i + 50);
        const commands: Record<string, BatchCommand> = {};
        const values = new Map<string, Record<string, string>>();
        const settings = await portalTraceSettings(portalId);
        for (const a of chunk) {
          const rv = answerOf(a, settings.lang);
          values.set(a.job.id, rv);
          // The SMS also leaves a trace on the CRM card (once: it rides with the answer).
          const trace = robotTraceCommand(
            {
              documentId: parseJson<string[]>(a.job.document_id) ?? [],
              status: rv.status ?? '',
              phone: a.phone,
              text: a.text,
              error: rv.error ?? '',
            },
            settings.mode,
            settings.lang,
          );
          if (trace) commands[`t_${a.job.id}`] = trace;
          commands[`e_${a.job.id}`] = {
            method: 'bizproc.event.send',
            params: {
              EVENT_TOKEN: a.job.event_token,
              RETURN_VALUES: rv,
              LOG_MESSAGE: rv.error ? `SMS: ${rv.error}` : `SMS ${rv.status}: ${rv.message_id}`,
            },
          };
        }
        try {
          const results = await opts.api.batch(portalId, commands);
          const t = opts.clock.now();
          for (const a of chunk) {
            const r = results[`e_${a.job.id}`];
            const rv = JSON.stringify(values.get(a.job.id));
            if (r?.ok)
              await updateRobotJob(opts.conn, a.job.id, { event_state: 2, return_values: rv }, t);
            else if (
              r &&
              !/^(INTERNAL|QUERY_LIMIT|OPERATION_TIME)/.test(r.error) &&
              a.job.event_attempts >= 2
            ) {
              // The workflow may have been stopped or the token has expired: nothing to wait for.
              jobLog(a.job).warn(
                { jobId: a.job.id, error: r.error, description: r.description },
                'Bitrix24 refused the robot answer; giving up',
              );
              await updateRobotJob(opts.conn, a.job.id, { event_state: 3, return_values: rv }, t);
            } else {
              await updateRobotJob(
                opts.conn,
                a.job.id,
                {
                  event_attempts: a.job.event_attempts + 1,
                  event_run_at: t + backoff(a.job.event_attempts),
                },
                t,
              );
            }
          }
        } catch (err) {
          const t = opts.clock.now();
          log.warn({ portalId, err: coerceError(err).message }, 'robot answers failed; will retry');
          for (const a of chunk)
            await updateRobotJob(
              opts.conn,
              a.job.id,
              {
                event_attempts: a.job.event_attempts + 1,
                event_run_at: t + backoff(a.job.event_attempts),
              },
              t,
            );
        }
      }
    }
  }

  async function tick(signal: AbortSignal = new AbortController().signal): Promise<void> {
    for (const job of await dueRobotJobs(opts.conn, opts.clock.now(), 20)) {
      if (signal.aborted) return;
      try {
        await processJob(job);
      } catch (err) {
        if (job.attempts + 1 >= maxAttempts) {
          await fail(job, `internal error: ${String(err)}`);
          continue;
        }
        jobLog(job).error({ err, jobId: job.id }, 'robot job failed unexpectedly; will retry');
        const now = opts.clock.now();
        await updateRobotJob(
          opts.conn,
          job.id,
          {
            attempts: job.attempts + 1,
            run_at: now + backoff(job.attempts),
            last_error: String(err),
          },
          now,
        );
      }
    }
    if (!signal.aborted) await sendAnswers();
  }

  const runner = makeSingletonLoop({
    conn: opts.conn,
    clock: opts.clock,
    logger: log,
    name: 'robots',
    holder: opts.holder,
    tickMs,
    tick,
  });

  return {
    start: runner.start,
    tick,
    /** A robot call was just committed: cut the idle wait short. */
    wake: runner.wake,
    stop: runner.stop,
  };
}

export type RobotWorker = ReturnType<typeof makeRobotWorker>;
