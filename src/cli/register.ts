import type { Command } from 'commander';
import { createService } from '../service.js';
import { cliLogger, configOrExit, fail } from './common.js';

export function registerCommand(program: Command): void {
  program
    .command('register')
    .description(
      'Register (or re-register) the SMS provider in every installed Bitrix24 portal, or in one',
    )
    .option('--portal <member_id>', 'only this portal')
    .action(async (opts: { portal?: string }) => {
      const config = configOrExit();
      if (config.sandbox) {
        fail(
          'sandbox mode: the Bitrix24 emulator lives inside `serve`, which registers its portal at start. Configure B24_CLIENT_ID/B24_CLIENT_SECRET (and MTS credentials) to register in a real portal.',
          2,
        );
      }
      const service = await createService({
        config,
        logger: cliLogger(config),
      });
      try {
        const done = await service.register(opts.portal);
        if (done.length === 0)
          process.stdout.write(
            'no installed portal: install the app in Bitrix24 first (it POSTs to /b24/install)\n',
          );
        for (const r of done)
          process.stdout.write(`${r.domain} (${r.portalId}): provider mts_sms_by ${r.sender}\n`);
      } catch (err) {
        fail(`registration failed: ${(err as Error).message}`);
      } finally {
        await service.close();
      }
    });
}
