import type { Command } from 'commander';
import { createService } from '../service.js';
import { listPortals } from '../store/index.js';
import { cliLogger, configOrExit, fail } from './common.js';

/** Nothing answered at the portal's address (as opposed to an answer that refused us). */
function unreachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'B24_NETWORK' || code === 'B24_TIMEOUT';
}

export function registerCommand(program: Command): void {
  program
    .command('register')
    .description(
      'Register (or re-register) the SMS provider and the robot in every installed Bitrix24 portal, or in one. Each portal on its own: one that cannot be reached is reported (exit 1) and the others are still registered',
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
      let failed = 0;
      let portals: { id: string; domain: string }[] = [];
      try {
        portals = opts.portal
          ? [{ id: opts.portal, domain: opts.portal }]
          : (await listPortals(service.conn)).filter((p) => p.status === 'active');
        if (portals.length === 0)
          process.stdout.write(
            'no installed portal: install the app in Bitrix24 first (it POSTs to /b24/install)\n',
          );
        for (const p of portals) {
          try {
            for (const r of await service.register(p.id))
              process.stdout.write(
                `${r.domain} (${r.portalId}): provider mts_sms_by ${r.sender}\n`,
              );
          } catch (err) {
            failed++;
            process.stdout.write(
              `${p.domain} (${p.id}): registration failed: ${(err as Error).message}\n${
                unreachable(err) && !opts.portal
                  ? `  if this portal no longer exists (an emulated one from the sandbox or a dry run?), remove it: npx b24-mts-sms portal remove ${p.domain}\n`
                  : ''
              }`,
            );
          }
        }
      } catch (err) {
        await service.close();
        fail(`registration failed: ${(err as Error).message}`);
      }
      await service.close();
      if (failed > 0)
        fail(
          portals.length === 1
            ? 'registration failed'
            : `registration failed in ${failed} of ${portals.length} portals; the others are registered`,
        );
    });
}
