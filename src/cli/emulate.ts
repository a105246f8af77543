import type { Command } from 'commander';
import type {
  DlrOutcome,
  MtsEmulatorMode,
  MtsEmulatorOptions,
  MtsFault,
} from '../emulators/mts/index.js';
import { MTS_FAULTS } from '../emulators/mts/mode.js';
import { createLogger } from '../log.js';
import { fail } from './common.js';

/** The `--mts-*` flags of `emulate`, as commander hands them over. */
export interface MtsEmulateFlags {
  mtsFail?: string;
  mtsRate?: string;
  mtsAlpha?: string;
  mtsHoldAlpha?: string;
  mtsLookupDelay?: string;
  mtsOutcome?: string;
}

const OUTCOMES: readonly DlrOutcome[] = [
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'pending',
];

/** A usage error: the message names the flag and what it takes. */
export class UsageError extends Error {}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function wholeNumber(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} takes a whole number ≥ ${min}`);
  return n;
}

/**
 * Turns the `--mts-*` flags into emulator options and the faults to switch on once it runs:
 * the options are the emulator's initial mode, which `{"fault":"none"}` comes back to.
 */
export function mtsOptionsFromFlags(flags: MtsEmulateFlags): {
  options: MtsEmulatorOptions;
  faults: MtsFault[];
} {
  const mode: Partial<MtsEmulatorMode> = { heldAlphaNames: list(flags.mtsHoldAlpha) };
  if (flags.mtsRate !== undefined) mode.rate = wholeNumber('--mts-rate', flags.mtsRate, 1);
  if (flags.mtsLookupDelay !== undefined)
    mode.lookupDelayMs = wholeNumber('--mts-lookup-delay', flags.mtsLookupDelay, 0);
  const faults = list(flags.mtsFail).map((f) => {
    if (!(MTS_FAULTS as readonly string[]).includes(f))
      throw new UsageError(`--mts-fail takes ${MTS_FAULTS.join(', ')} (comma-separated), not ${f}`);
    return f as MtsFault;
  });
  const outcome = flags.mtsOutcome;
  if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome))
    throw new UsageError(`--mts-outcome takes ${OUTCOMES.join(', ')}, not ${outcome}`);
  const alphaNames = list(flags.mtsAlpha);
  const options: MtsEmulatorOptions = {
    mode,
    ...(alphaNames.length > 0 ? { alphaNames } : {}),
    ...(outcome !== undefined ? { dlr: { outcome: () => outcome as DlrOutcome } } : {}),
  };
  return { options, faults };
}

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
    .option(
      '--mts-fail <faults>',
      `MTS failures to switch on, comma-separated: ${MTS_FAULTS.join(', ')} (see docs/mts.md)`,
    )
    .option(
      '--mts-rate <n>',
      'contracted MTS rate in requests/s (over it: 10224, or 429 with --mts-fail 429)',
    )
    .option('--mts-alpha <names>', 'registered alpha names, comma-separated (default: any)')
    .option('--mts-hold-alpha <names>', 'alpha names MTS refuses with 10262, comma-separated')
    .option(
      '--mts-lookup-delay <ms>',
      'a just-accepted message stays "not found" by lookups this long',
    )
    .option('--mts-outcome <outcome>', `fate of every message: ${OUTCOMES.join(', ')}`)
    .option(
      '--sample-crm <contacts>',
      'fill the emulated CRM with this many contacts (and a tenth as many leads, a twentieth companies) with messy phone numbers, for `phones scan` / `phones fix`',
    )
    .action(
      async (
        opts: {
          mtsPort: string;
          b24Port: string;
          host: string;
          install?: string;
          sampleCrm?: string;
        } & MtsEmulateFlags,
      ) => {
        let fromFlags: ReturnType<typeof mtsOptionsFromFlags>;
        try {
          fromFlags = mtsOptionsFromFlags(opts);
        } catch (err) {
          if (err instanceof UsageError) fail(err.message, 2);
          throw err;
        }
        const { options: mtsOptions, faults } = fromFlags;
        const sample = opts.sampleCrm === undefined ? 0 : Number(opts.sampleCrm);
        if (!Number.isInteger(sample) || sample < 0)
          fail('--sample-crm takes a whole number of contacts', 2);
        const logger = createLogger('info', undefined, 'auto');
        // Loaded on use: `serve` and the other commands never carry the emulators' code.
        const { startMtsEmulator } = await import('../emulators/mts/index.js');
        const { startBitrix24Emulator } = await import('../emulators/bitrix24/index.js');
        const mts = await startMtsEmulator({
          ...mtsOptions,
          port: Number(opts.mtsPort),
          host: opts.host,
          logger,
        });
        for (const f of faults) mts.setFault(f);
        const b24 = await startBitrix24Emulator({
          port: Number(opts.b24Port),
          host: opts.host,
          logger,
        });
        if (sample > 0) {
          const { seedSampleCrm } = await import('../emulators/bitrix24/sampleCrm.js');
          const crm = seedSampleCrm(b24, {
            contacts: sample,
            leads: Math.floor(sample / 10),
            companies: Math.floor(sample / 20),
          });
          process.stdout.write(`sample CRM: ${JSON.stringify(crm)}\n`);
        }
        const alpha = mtsOptions.alphaNames?.join(', ') ?? 'any';
        const sender = mtsOptions.alphaNames?.[0] ?? 'SANDBOX';
        process.stdout.write(
          [
            `MTS emulator:      ${mts.url}  (client id ${mts.clientId}, login ${mts.login}/${mts.password}, alpha names: ${alpha})`,
            `Bitrix24 emulator: ${b24.url}  (client id ${b24.clientId}, secret ${b24.clientSecret})`,
            `MTS switches:      ${JSON.stringify(mts.mode)}`,
            `  change them:     curl -s -X POST ${mts.url}/_emulator/mode -H 'content-type: application/json' -d '{"fault":"balance"}'`,
            '',
            'Point the service at them:',
            `  MTS_API_URL=${mts.url} MTS_CLIENT_ID=${mts.clientId} MTS_LOGIN=${mts.login} MTS_PASSWORD=${mts.password} MTS_SENDER=${sender} \\`,
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
        // `on`, not `once`: under npm, Ctrl+C arrives twice (the terminal's and npm's copy).
        let stopping = false;
        const stop = async () => {
          if (stopping) return;
          stopping = true;
          await Promise.allSettled([mts.close(), b24.close()]);
          process.exit(0);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      },
    );
}
