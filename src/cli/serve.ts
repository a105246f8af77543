import closeWithGrace from 'close-with-grace';
import type { Command } from 'commander';
import { createLogger } from '../log.js';
import { startSandbox } from '../sandbox.js';
import { createService } from '../service.js';
import { DatabaseMissingError } from '../store/errors.js';
import { listPortals } from '../store/portals.js';
import { configOrExit, fail } from './common.js';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the HTTP service and its workers (npm start). Without MTS and Bitrix24 credentials it runs in sandbox mode on built-in emulators.',
    )
    .option(
      '--no-workers',
      'accept and store messages but do not send or push statuses (an intake-only instance)',
    )
    .action(async (opts: { workers: boolean }) => {
      const config = configOrExit();
      const logger = createLogger(config.LOG_LEVEL);
      const sandbox = config.sandbox ? await startSandbox(config, logger) : null;
      if (sandbox) {
        logger.warn(
          { mts: sandbox.mts.url, bitrix24: sandbox.b24.url },
          '*** SANDBOX MODE: no MTS/Bitrix24 credentials configured. Built-in emulators stand in; NO REAL SMS WILL BE SENT. Set MTS_CLIENT_ID, MTS_LOGIN/MTS_PASSWORD, MTS_SENDER, B24_CLIENT_ID, B24_CLIENT_SECRET for production. ***',
        );
      }
      const service = await createService({
        config,
        logger,
        ...(sandbox ? { endpoints: sandbox.endpoints } : {}),
      }).catch(async (err: unknown) => {
        await sandbox?.close();
        if (err instanceof DatabaseMissingError) fail(err.message);
        throw err;
      });
      await service.app.listen({ port: config.PORT, host: config.HOST });
      logger.info(
        { url: config.PUBLIC_URL, database: service.conn.describe },
        'b24-mts-sms listening',
      );
      if (sandbox) {
        // Re-install on every start: the emulator's tokens and ports are new each time.
        const status = await sandbox.b24.install(config.PUBLIC_URL);
        const portals = await listPortals(service.conn);
        logger.warn(
          { status, portals: portals.map((p) => p.domain) },
          'sandbox portal installed in the Bitrix24 emulator',
        );
      }
      if (opts.workers) service.startWorkers();
      closeWithGrace({ delay: 15_000, logger }, async ({ signal, err }) => {
        if (err) logger.error({ err }, 'shutting down after an error');
        else logger.info({ signal }, 'shutting down: finishing in-flight sends');
        await service.close();
        await sandbox?.close();
      });
    });
}
