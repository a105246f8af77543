import type { Command } from 'commander';
import { startBitrix24Emulator } from '../emulators/bitrix24/index.js';
import { startMtsEmulator } from '../emulators/mts/index.js';
import { createLogger } from '../log.js';
import { fail } from './common.js';

export function emulateCommand(program: Command): void {
  program
    .command('emulate')
    .description(
      'Run the MTS Communicator and Bitrix24 emulators for a dry run against a separately started service',
    )
    .option('--mts-port <port>', 'MTS emulator port', '4010')
    .option('--b24-port <port>', 'Bitrix24 emulator port', '4020')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option(
      '--install <appUrl>',
      'once the service at this URL answers, install the emulated portal into it (e.g. http://localhost:3000)',
    )
    .action(async (opts: { mtsPort: string; b24Port: string; host: string; install?: string }) => {
      const logger = createLogger('info');
      const mts = await startMtsEmulator({
        port: Number(opts.mtsPort),
        host: opts.host,
        alphaNames: ['SANDBOX', 'SANDBOXMKT'],
        logger,
      });
      const b24 = await startBitrix24Emulator({
        port: Number(opts.b24Port),
        host: opts.host,
        logger,
      });
      process.stdout.write(
        [
          `MTS emulator:      ${mts.url}  (client id ${mts.clientId}, login ${mts.login}/${mts.password}, alpha names SANDBOX, SANDBOXMKT)`,
          `Bitrix24 emulator: ${b24.url}  (client id ${b24.clientId}, secret ${b24.clientSecret})`,
          '',
          'Point the service at them:',
          `  MTS_API_URL=${mts.url} MTS_CLIENT_ID=${mts.clientId} MTS_LOGIN=${mts.login} MTS_PASSWORD=${mts.password} MTS_SENDER=SANDBOX \\`,
          `  B24_CLIENT_ID=${b24.clientId} B24_CLIENT_SECRET=${b24.clientSecret} B24_OAUTH_URL=${b24.url} npm start`,
          '',
        ].join('\n'),
      );
      if (opts.install) {
        const target = opts.install.replace(/\/+$/, '');
        process.stdout.write(`waiting for the service at ${target} to answer /healthz…\n`);
        const deadline = Date.now() + 5 * 60_000;
        while (
          !(await fetch(`${target}/healthz`)
            .then((r) => r.ok)
            .catch(() => false))
        ) {
          if (Date.now() > deadline) fail(`${target}/healthz did not answer within 5 minutes`);
          await new Promise((r) => setTimeout(r, 1000));
        }
        const status = await b24.install(target);
        if (status >= 300) fail(`install into ${opts.install} answered HTTP ${status}`);
        process.stdout.write(`portal installed into ${opts.install} (HTTP ${status})\n`);
      }
      const stop = async () => {
        await Promise.allSettled([mts.close(), b24.close()]);
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
