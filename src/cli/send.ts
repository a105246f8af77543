import type { Command } from 'commander';
import type { Config } from '../config.js';
import { intakeSms } from '../core/intake.js';
import { normalizePhone } from '../domain/phone.js';
import { checkText } from '../domain/segments.js';
import { isFinalB24Status } from '../domain/status.js';
import { NO_SANDBOX, runningSandbox } from '../sandboxFile.js';
import { createService } from '../service.js';
import { getMessage, type Message } from '../store/index.js';
import { cliLogger, configOrExit, fail } from './common.js';

function describe(m: Message): string {
  const lines = [
    `message ${m.id}: ${m.state}`,
    `  to ${m.phone ?? m.phone_raw} from ${m.alpha_name}`,
  ];
  if (m.mts_message_id) lines.push(`  MTS message_id ${m.mts_message_id}`);
  if (m.fail_reason) lines.push(`  reason: ${m.fail_reason}`);
  else if (m.last_error) lines.push(`  last error: ${m.last_error} (attempt ${m.attempts})`);
  return `${lines.join('\n')}\n`;
}

export function sendCommand(program: Command): void {
  program
    .command('send')
    .description(
      'Send one SMS through the same outbox as Bitrix24 messages and print what happened. In sandbox mode it goes from a CRM card of the emulated portal inside the running `serve` (start it first) and waits for the status Bitrix24 gets. Exit 0 sent (delivered in sandbox mode), 1 refused or not delivered, 2 usage, 3 still waiting',
    )
    .requiredOption('--to <phone>', 'recipient, any common Belarus format, e.g. "8 029 123-45-67"')
    .requiredOption('--text <text>', 'message text (at most 5 SMS parts)')
    .option('--marketing', 'send as marketing (MTS_SENDER_MARKETING)')
    .option(
      '--wait <seconds>',
      'how long to wait: for MTS to accept it, in sandbox mode for its final status (0 = return once it is committed)',
      '30',
    )
    .action(async (opts: { to: string; text: string; marketing?: boolean; wait: string }) => {
      const config = configOrExit({ sends: true });
      const waitSec = Number(opts.wait);
      if (!Number.isFinite(waitSec) || waitSec < 0) fail('--wait takes a number of seconds', 2);
      if (config.sandbox) {
        process.exitCode = await sendInSandbox(config, opts, waitSec);
        return;
      }
      const logger = cliLogger(config);
      const service = await createService({ config, logger });
      let code = 0;
      try {
        const { message } = await intakeSms(
          service.conn,
          {
            portalId: null,
            b24MessageId: null,
            source: 'cli',
            kind: opts.marketing ? 'marketing' : 'transactional',
            to: opts.to,
            text: opts.text,
            alphaName: opts.marketing ? config.mtsSenderMarketing : config.mtsSender,
            maxParts: config.SMS_MAX_PARTS,
          },
          Date.now(),
        );
        if (message.state === 'failed') {
          process.stdout.write(describe(message));
          code = 1;
          return;
        }
        process.stdout.write(`queued ${message.id} to ${message.phone}\n`);
        if (waitSec === 0) return;
        service.sender.start();
        const deadline = Date.now() + waitSec * 1000;
        let m: Message | undefined = message;
        while (Date.now() < deadline) {
          m = await getMessage(service.conn, message.id);
          if (m && m.state !== 'queued' && m.state !== 'sending') break;
          await new Promise((r) => setTimeout(r, 200));
        }
        if (!m) return;
        process.stdout.write(describe(m));
        if (m.state === 'queued' || m.state === 'sending') {
          process.stdout.write('  still waiting for MTS; the running service will keep trying\n');
          code = 3;
        } else if (m.state === 'failed' || m.state === 'REJECTD') code = 1;
      } finally {
        await service.close();
        process.exitCode = code;
      }
    });
}

/**
 * Sandbox mode: the SMS goes the way a manager's does — from a CRM card of the emulated portal
 * inside the running `serve`, through its provider's handler — so the service sends it to the
 * sandbox's MTS and the status comes back to that portal. Waits for the final status (or
 * returns at once with `--wait 0`). Exit 0 delivered (or queued with --wait 0), 1 refused or
 * undelivered, 3 still waiting.
 */
async function sendInSandbox(
  config: Config,
  opts: { to: string; text: string; marketing?: boolean },
  waitSec: number,
): Promise<number> {
  // What cannot be sent is said at once, with the reason (the service would store it failed).
  const phone = normalizePhone(opts.to);
  if (!phone.ok) {
    process.stdout.write(`refused: ${phone.reason} — ${phone.message}\n`);
    return 1;
  }
  const text = checkText(opts.text, config.SMS_MAX_PARTS);
  if (!text.ok) {
    process.stdout.write(`refused: ${text.reason}\n`);
    return 1;
  }
  const running = runningSandbox(config);
  if (!running?.b24.oauthUrl) fail(NO_SANDBOX, 2);
  const portal = running.b24.oauthUrl;
  process.stderr.write(
    'sandbox mode: sent from a CRM card of the emulated portal in the running service; no real SMS is sent\n',
  );
  let sent: { messageId: string; status: number; body: string };
  try {
    const res = await fetch(`${portal}/_emulator/send-from-card`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        to: opts.to,
        text: opts.text,
        moduleId: opts.marketing ? 'sender' : 'crm',
      }),
      signal: AbortSignal.timeout(15_000),
    });
    const answer = (await res.json()) as typeof sent & { message?: string };
    if (!res.ok) fail(answer.message ?? `the emulated portal answered ${res.status}`);
    sent = answer;
  } catch (err) {
    fail(`the running sandbox did not answer (${(err as Error).message}): ${NO_SANDBOX}`);
  }
  if (sent.status !== 200) fail(`the service refused the message (${sent.status}): ${sent.body}`);
  process.stdout.write(`queued: Bitrix24 message ${sent.messageId} to ${phone.phone}\n`);
  if (waitSec === 0) return 0;
  const deadline = Date.now() + waitSec * 1000;
  let status: string | null = null;
  while (Date.now() < deadline) {
    const res = await fetch(`${portal}/_emulator/messages/${sent.messageId}`, {
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    if (res?.ok) status = ((await res.json()) as { status: string | null }).status;
    if (isFinalB24Status(status)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  process.stdout.write(`status in Bitrix24: ${status ?? 'none yet'}\n`);
  if (status === 'delivered') return 0;
  if (isFinalB24Status(status)) {
    process.stdout.write(
      `  the admin page (${config.PUBLIC_URL}/, Messages) shows why, with MTS's answer\n`,
    );
    return 1;
  }
  process.stdout.write('  still on its way; the running service keeps going\n');
  return 3;
}
