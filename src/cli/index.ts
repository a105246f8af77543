#!/usr/bin/env node
// First: heap settings before the rest allocates (see heap.ts).
import './heap.js';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { campaignCommand } from './campaign.js';
import { emulateCommand } from './emulate.js';
import { migrateCommand } from './migrate.js';
import { optoutCommand } from './optout.js';
import { phonesCommand } from './phones.js';
import { portalCommand } from './portal.js';
import { registerCommand } from './register.js';
import { sendCommand } from './send.js';
import { serveCommand } from './serve.js';
import { statsCommand } from './stats.js';

const program = new Command()
  .name('b24-mts-sms')
  .description(
    'MTS Belarus SMS as an SMS provider inside Bitrix24. Configuration comes from the environment or .env (see README).',
  )
  .version(
    // The package's own version (package.json beside src/ and dist/).
    (createRequire(import.meta.url)('../../package.json') as { version: string }).version,
    '-V, --version',
    'print the version and exit',
  )
  .showHelpAfterError();

serveCommand(program);
migrateCommand(program);
registerCommand(program);
optoutCommand(program);
phonesCommand(program);
portalCommand(program);
sendCommand(program);
campaignCommand(program);
statsCommand(program);
emulateCommand(program);

await program.parseAsync(process.argv);
