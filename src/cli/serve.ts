import closeWithGrace from 'close-with-grace';
import type { Command } from 'commander';
import { createLogger } from '../log.js';
import { removeSandboxFile, writeSandboxFile } from '../sandboxFile.js';
import { createService } from '../service.js';
import { DatabaseMissingError, listPortals } from '../store/index.js';
import { configOrExit, fail } from './common.js';

/** SIGINTs this close together are one Ctrl+C (the terminal's and npm's forwarded copy). */
const SAME_PRESS_MS = 1000;

/** The sandbox portal's sample CRM (the emulator keeps it in memory: new on every start). */
const SANDBOX_CRM = { contacts: 300, leads: 60, companies: 30 };

/** The settings `serve` reads (environment or `.env`), as the README's table lists them. */
const SETTINGS_HELP = `
Settings (environment variables or a .env file; the README explains each):
  PORT, HOST                      listen address (3000, 0.0.0.0)
  PUBLIC_URL                      base of the HANDLER and MTS callback URLs
  DATABASE_URL                    sqlite:./data/b24-mts-sms.sqlite or postgres://…
  B24_CLIENT_ID, B24_CLIENT_SECRET   the Bitrix24 local application
  B24_OAUTH_URL                   trusted OAuth servers, comma-separated
  B24_RATE, B24_BURST, B24_PUSH_DELAY_MS
  MTS_API_URL, MTS_CLIENT_ID, MTS_LOGIN, MTS_PASSWORD or MTS_API_TOKEN
  MTS_SENDER, MTS_SENDER_MARKETING   registered alpha names
  MTS_RATE_LIMIT (10), MTS_RATE_HEADROOM_MS (15), MTS_TIMEOUT (15)
  MTS_SMS_TTL (86400), MTS_POLL_AFTER (300), MTS_POLL_INTERVAL (60), MTS_EXPIRE_GRACE (3600)
  MTS_LOOKUP_GRACE (120), MTS_PROBE_AFTER (5), SENDER_CONCURRENCY (16)
  SMS_MAX_PARTS (5, at most 15), CONSENT_FIELD (UF_CRM_SMS_CONSENT)
  MARKETING_QUIET_HOURS (21:00-09:00; e.g. "workdays 20:00-09:00; weekends 18:00-11:00", mts)
  SECRET_KEY                      encrypts per-portal MTS secrets (portal set --mts-*)
  RETENTION_DAYS (180), ADMIN_TOKEN, BODY_LIMIT, LOG_LEVEL (info)
Without MTS and Bitrix24 credentials: sandbox mode (refused when NODE_ENV=production).
`;

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
    .addHelpText('after', SETTINGS_HELP)
    .action(async (opts: { workers: boolean }) => {
      const config = configOrExit({ sends: true });
      const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT);
      const sandbox = config.sandbox
        ? await (await import('../sandbox.js')).startSandbox(config, logger)
        : null;
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
        // A CRM to practise on: messy phone numbers (phones scan/fix), most with consent.
        const { seedSampleCrm } = await import('../emulators/bitrix24/sampleCrm.js');
        seedSampleCrm(sandbox.b24, {
          contacts: SANDBOX_CRM.contacts,
          leads: SANDBOX_CRM.leads,
          companies: SANDBOX_CRM.companies,
          consentShare: 0.8,
        });
        writeSandboxFile(config, sandbox.endpoints);
        logger.warn(
          {
            status,
            portals: portals.map((p) => p.domain),
            crm: `${SANDBOX_CRM.contacts} contacts, ${SANDBOX_CRM.leads} leads, ${SANDBOX_CRM.companies} companies`,
            // The app as a Bitrix24 user sees it, inside the emulated portal's page.
            appInPortal: `${sandbox.b24.url}/app`,
          },
          'sandbox portal installed in the Bitrix24 emulator, with a sample CRM',
        );
      }
      if (opts.workers) service.startWorkers();
      // SIGINT is handled here, not by close-with-grace: Ctrl+C on `npm start` reaches the
      // service twice — from the terminal and forwarded by npm — and close-with-grace takes a
      // second SIGINT as "exit now", which cut the graceful stop short.
      const grace = closeWithGrace(
        { delay: 15_000, logger, skip: ['SIGINT'] },
        async ({ signal, err }) => {
          if (err) logger.error({ err }, 'shutting down after an error');
          else
            logger.info({ signal: signal ?? 'SIGINT' }, 'shutting down: finishing in-flight sends');
          await service.close();
          if (sandbox) removeSandboxFile(config);
          await sandbox?.close();
          logger.info('stopped');
        },
      );
      let firstSigint = 0;
      process.on('SIGINT', () => {
        const now = Date.now();
        if (firstSigint === 0) {
          firstSigint = now;
          void grace.close();
        } else if (now - firstSigint > SAME_PRESS_MS) {
          // Pressed again: stop waiting (what was not sent is sent by the next start).
          logger.error('second SIGINT, exiting');
          process.exit(1);
        }
      });
    });
}
