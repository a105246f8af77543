import type { Command } from 'commander';
import { intakeSms } from '../core/intake.js';
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
      'Send one SMS through the same outbox as Bitrix24 messages and print what happened',
    )
    .requiredOption('--to <phone>', 'recipient, any common Belarus format, e.g. "8 029 123-45-67"')
    .requiredOption('--text <text>', 'message text (at most 5 SMS parts)')
    .option('--marketing', 'send as marketing (MTS_SENDER_MARKETING)')
    .option(
      '--wait <seconds>',
      'how long to wait for MTS to accept it (0 = just queue it for the running service)',
      '30',
    )
    .action(async (opts: { to: string; text: string; marketing?: boolean; wait: string }) => {
      const config = configOrExit();
      const waitSec = Number(opts.wait);
      if (!Number.isFinite(waitSec) || waitSec < 0) fail('--wait takes a number of seconds', 2);
      const logger = cliLogger(config);
      const sandbox =
        config.sandbox && waitSec > 0
          ? await (await import('../sandbox.js')).startSandbox(config, logger)
          : null;
      if (config.sandbox)
        process.stderr.write(
          'sandbox mode: the built-in MTS emulator stands in; no real SMS is sent\n',
        );
      const service = await createService({
        config,
        logger,
        ...(sandbox ? { endpoints: sandbox.endpoints } : {}),
      });
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
        await sandbox?.close();
        process.exitCode = code;
      }
    });
}
