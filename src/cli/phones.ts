import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import type { Command } from 'commander';
import { ensureBooleanField } from '../bitrix24/booleanField.js';
import { type Bitrix24Client, createBitrix24Client } from '../bitrix24/client.js';
import { type Patient, patience } from '../bitrix24/patience.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { CSV_HEADER, csvLine, readScanCsv } from '../core/phones/csv.js';
import { applyFixes, type FixCounts, FixPlanner, type PlannedUpdate } from '../core/phones/fix.js';
import { type ScannedRecord, scanPhones } from '../core/phones/scan.js';
import {
  PHONE_ENTITIES,
  type PhoneEntity,
  type ScanTally,
  VERDICTS,
} from '../core/phones/verdict.js';
import { restLimits } from '../core/restLimits.js';
import { ValidationError } from '../errors.js';
import { NO_SANDBOX, runningSandbox } from '../sandboxFile.js';
import {
  addPhoneScanChunk,
  type Connection,
  connect,
  finishPhoneScan,
  listPortals,
  makeTokenStore,
  migrate,
  type Portal,
  startPhoneScan,
} from '../store/index.js';
import { choosePortal, cliLogger, configOrExit, fail } from './common.js';
import { makeProgress } from './progress.js';

const EXIT_USAGE = 2;

/** Longer than Bitrix24's 10-minute operating-time window: the client waits a block out. */
const MAX_LIMIT_WAIT_MS = 11 * 60_000;

const SMART_PROCESS_REFUSAL =
  "--smart-process: smart-process items have no PHONE multifield in Bitrix24 (multifields exist only on leads, contacts and companies, and crm.item.* does not return them), so there is nothing this command could read faithfully; phones kept in a smart process's own user fields are not scanned";

/** A portal to work on, with a patient REST client over its stored tokens. */
interface PortalSession {
  config: Config;
  conn: Connection;
  portal: Portal;
  client: Bitrix24Client;
  run: Patient;
  close(): Promise<void>;
}

async function openPortal(wanted: string | undefined): Promise<PortalSession> {
  const config = configOrExit();
  // Sandbox mode: the sample CRM of the emulated portal inside the running `serve`.
  const noApp = !config.B24_CLIENT_ID || !config.B24_CLIENT_SECRET;
  const sandbox = noApp ? runningSandbox(config) : null;
  if (noApp && !sandbox) fail(NO_SANDBOX, EXIT_USAGE);
  const app = sandbox
    ? {
        clientId: sandbox.b24.clientId,
        clientSecret: sandbox.b24.clientSecret,
        oauthServers: sandbox.b24.oauthUrl ? [sandbox.b24.oauthUrl] : config.B24_OAUTH_URL,
      }
    : {
        clientId: config.B24_CLIENT_ID ?? '',
        clientSecret: config.B24_CLIENT_SECRET ?? '',
        oauthServers: config.B24_OAUTH_URL,
      };
  let conn: Connection;
  try {
    conn = connect(config.DATABASE_URL);
    await migrate(conn);
  } catch (err) {
    fail(`database: ${(err as Error).message}`);
  }
  const chosen = choosePortal(await listPortals(conn), wanted);
  if (typeof chosen === 'string') {
    await conn.close();
    fail(chosen, EXIT_USAGE);
  }
  const logger = cliLogger(config).child({ component: 'bitrix24' });
  const client = createBitrix24Client({
    ...app,
    tokens: makeTokenStore(conn, systemClock),
    ...(await restLimits(conn, systemClock, { rate: config.B24_RATE, burst: config.B24_BURST })),
    maxLimitWaitMs: MAX_LIMIT_WAIT_MS,
    logger,
  });
  const run = patience({
    onWait: (w) =>
      process.stderr.write(
        `Bitrix24 says ${w.limit}: waiting ${Math.ceil(w.waitMs / 1000)} s before asking again\n`,
      ),
  });
  return {
    config,
    conn,
    portal: chosen,
    client,
    run,
    async close() {
      client.close();
      await conn.close();
    },
  };
}

/** `contact,lead` → the types, in the order SPEC §6 scans them (contacts, leads, companies). */
export function parseEntities(value: string | undefined): PhoneEntity[] {
  if (value === undefined) return [...PHONE_ENTITIES];
  const asked = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const e of asked)
    if (!(PHONE_ENTITIES as readonly string[]).includes(e))
      throw new ValidationError(
        `--entities takes ${PHONE_ENTITIES.join(', ')} (comma-separated), not "${e}"`,
      );
  if (asked.length === 0) throw new ValidationError('--entities: name at least one CRM type');
  return PHONE_ENTITIES.filter((e) => asked.includes(e));
}

function scanSummary(tally: ScanTally, requests: number, out: string | undefined): string {
  const scanned = Object.entries(tally.scanned)
    .map(([e, n]) => `${e} ${n}`)
    .join(', ');
  const records = Object.values(tally.scanned).reduce((a, b) => a + (b ?? 0), 0);
  const lines = [
    `scanned ${records} records (${scanned}): ${tally.values} phone values`,
    ...VERDICTS.map((v) => `  ${v.padEnd(10)} ${tally[v]}`),
    `Bitrix24 REST requests: ${requests}`,
  ];
  if (out) lines.push(`report: ${out}`);
  if (tally.fixable > 0)
    lines.push(
      `next: \`b24-mts-sms phones fix${out ? ` --from ${out}` : ''}\` shows what would change; add --apply to write`,
    );
  return `${lines.join('\n')}\n`;
}

/** Writes report lines to a temporary file renamed into place once complete. */
function csvWriter(path: string) {
  const tmp = `${path}.partial`;
  const stream = createWriteStream(tmp, { encoding: 'utf8' });
  return {
    async write(text: string) {
      if (!stream.write(text)) await once(stream, 'drain');
    },
    async close() {
      await new Promise<void>((resolve, reject) =>
        stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
      renameSync(tmp, path);
    },
    abort() {
      stream.destroy();
      if (existsSync(tmp)) unlinkSync(tmp);
    },
  };
}

function describeUpdate(u: PlannedUpdate): string {
  const parts = u.phones.map((p) => `value ${p.valueId} "${p.from}" → ${p.to}`);
  if (u.mark) parts.push(`marker → ${u.mark}`);
  return `  ${u.entity} ${u.id}: ${parts.join('; ')}\n`;
}

/** Shown in a dry run before "… and N more". */
const DRY_RUN_LINES = 20;

export function phonesCommand(program: Command): void {
  const phones = program
    .command('phones')
    .description(
      "Phone-base hygiene before a mass mailing: check every PHONE value of the portal's CRM (scan), normalize the fixable ones (fix)",
    );

  phones
    .command('scan')
    .description(
      'Read every PHONE value of contacts, then leads, then companies (read-only, 2,500 records per Bitrix24 request) and give each a verdict: ok, fixable, landline, foreign, malformed, duplicate',
    )
    .option('--portal <member_id or domain>', 'the portal (optional when exactly one is installed)')
    .option('--entities <types>', 'CRM types to scan, comma-separated', 'contact,lead,company')
    .option(
      '--smart-process <entityTypeIds>',
      'not supported: smart-process items have no PHONE multifield (Bitrix24 keeps multifields on leads, contacts and companies only)',
    )
    .option(
      '--out <file.csv>',
      'write the report: entity,id,value_id,value_type,original,normalized,verdict (one row per value)',
    )
    .option(
      '--json',
      'print only {"scanned":{…},"values","ok","fixable","landline","foreign","malformed","duplicate","rest_requests"}',
    )
    .action(
      async (opts: {
        portal?: string;
        entities?: string;
        smartProcess?: string;
        out?: string;
        json?: boolean;
      }) => {
        if (opts.smartProcess !== undefined) fail(SMART_PROCESS_REFUSAL, EXIT_USAGE);
        let entities: PhoneEntity[];
        try {
          entities = parseEntities(opts.entities);
        } catch (err) {
          fail((err as Error).message, EXIT_USAGE);
        }
        const s = await openPortal(opts.portal);
        const csv = opts.out ? csvWriter(opts.out) : undefined;
        const progress = makeProgress(process.stderr, 'scan', 'records');
        // The scan and its report are also recorded, for the admin API (GET /api/phones/scans).
        const scanId = await startPhoneScan(s.conn, s.portal.id, Date.now());
        let seq = 0;
        try {
          await csv?.write(`${CSV_HEADER}\n`);
          const tally = await scanPhones({
            api: s.client,
            portalId: s.portal.id,
            entities,
            run: s.run,
            onRecords: async (records) => {
              let text = '';
              for (const r of records) for (const row of r.rows) text += csvLine(row);
              if (!text) return;
              await addPhoneScanChunk(s.conn, scanId, ++seq, text);
              await csv?.write(text);
            },
            onProgress: (p) => progress.update(p.done, p.total),
          });
          progress.finish();
          await csv?.close();
          await finishPhoneScan(s.conn, scanId, { tally }, Date.now());
          const requests = s.client.restRequests(s.portal.id);
          if (opts.json)
            process.stdout.write(`${JSON.stringify({ ...tally, rest_requests: requests })}\n`);
          else process.stdout.write(scanSummary(tally, requests, opts.out));
        } catch (err) {
          csv?.abort();
          await finishPhoneScan(
            s.conn,
            scanId,
            { error: (err as Error).message },
            Date.now(),
          ).catch(() => {});
          process.stderr.write(`\nerror: scan failed: ${(err as Error).message}\n`);
          process.exitCode = 1;
        } finally {
          await s.close();
        }
      },
    );

  phones
    .command('fix')
    .description(
      'Write fixable PHONE values back normalized (+375XXXXXXXXX), touching nothing else. A dry run unless --apply; safe to interrupt and run again',
    )
    .option('--portal <member_id or domain>', 'the portal (optional when exactly one is installed)')
    .option(
      '--from <file.csv>',
      'use a `phones scan --out` report instead of scanning afresh (each value is re-read before it is written: one a manager changed since is skipped)',
    )
    .option(
      '--entities <types>',
      'CRM types to scan (without --from), comma-separated',
      'contact,lead,company',
    )
    .option('--apply', 'write the changes (default: a dry run that only says what would change)')
    .option(
      '--mark-field <UF_CRM_NAME>',
      'also set this boolean user field to Y on records with no valid mobile number and N on the others (created when missing; needs a fresh scan, not --from)',
    )
    .option(
      '--json',
      'print only {"fixed","unchanged","skipped","errors","rest_requests"} (plus "stale", "marked")',
    )
    .action(
      async (opts: {
        portal?: string;
        from?: string;
        entities?: string;
        apply?: boolean;
        markField?: string;
        json?: boolean;
      }) => {
        let entities: PhoneEntity[];
        let fromRows: ReturnType<typeof readScanCsv> | undefined;
        try {
          entities = parseEntities(opts.entities);
          if (opts.markField !== undefined) {
            if (!/^UF_CRM_[A-Z0-9_]+$/.test(opts.markField))
              throw new ValidationError(
                `--mark-field ${opts.markField}: a CRM user field name, UF_CRM_ followed by A-Z, 0-9 or _`,
              );
            if (opts.from)
              throw new ValidationError(
                '--mark-field needs a fresh scan (a report lists no record without phones): drop --from',
              );
          }
          if (opts.from) {
            if (!existsSync(opts.from))
              throw new ValidationError(`--from ${opts.from}: no such file`);
            fromRows = readScanCsv(readFileSync(opts.from, 'utf8'));
          }
        } catch (err) {
          fail(`${(err as Error).message}`, EXIT_USAGE);
        }
        const s = await openPortal(opts.portal);
        const planner = new FixPlanner();
        let shown = 0;
        let planned = 0;
        try {
          if (fromRows) {
            for (const row of fromRows) planner.addRow(row);
          } else {
            const progress = makeProgress(process.stderr, 'scan', 'records');
            await scanPhones({
              api: s.client,
              portalId: s.portal.id,
              entities,
              ...(opts.markField ? { extraFields: [opts.markField] } : {}),
              run: s.run,
              onRecords: (records: ScannedRecord[]) => {
                for (const r of records) planner.addRecord(r, opts.markField);
              },
              onProgress: (p) => progress.update(p.done, p.total),
            });
            progress.finish();
          }
          if (opts.markField) {
            if (opts.apply) {
              const made = await s.run(() =>
                ensureBooleanField(s.client, s.portal.id, {
                  fieldName: opts.markField as string,
                  entities,
                  label: { en: 'No valid mobile number', ru: 'Нет действующего мобильного номера' },
                  help: {
                    en: 'Set by `b24-mts-sms phones fix`: Y when no phone of the record can receive SMS',
                    ru: 'Ставит `b24-mts-sms phones fix`: «Да», если ни на один номер записи нельзя отправить SMS',
                  },
                  renameHint: 'choose another --mark-field',
                }),
              );
              for (const [e, outcome] of Object.entries(made))
                if (outcome === 'created')
                  process.stderr.write(`created the ${e} field ${opts.markField}\n`);
            } else
              process.stderr.write(`dry run: ${opts.markField} would be created where missing\n`);
          }
          const plan = planner.plan();
          const progress = makeProgress(process.stderr, opts.apply ? 'fix' : 'check', 'records');
          const counts: FixCounts = await applyFixes(plan, {
            api: s.client,
            portalId: s.portal.id,
            apply: Boolean(opts.apply),
            ...(opts.markField ? { markField: opts.markField } : {}),
            run: s.run,
            onProgress: (done, total) => progress.update(done, total),
            onError: (m) => process.stderr.write(`\nerror: ${m}\n`),
            onUpdate: (u) => {
              planned += 1;
              if (!opts.apply && !opts.json && shown < DRY_RUN_LINES) {
                shown += 1;
                process.stdout.write(describeUpdate(u));
              }
            },
          });
          if (plan.targets.length > 0) progress.finish();
          const requests = s.client.restRequests(s.portal.id);
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({
                fixed: counts.fixed,
                unchanged: counts.unchanged,
                skipped: counts.skipped,
                errors: counts.errors,
                rest_requests: requests,
                stale: counts.stale,
                marked: counts.marked,
                applied: Boolean(opts.apply),
              })}\n`,
            );
          } else {
            if (!opts.apply && planned > shown)
              process.stdout.write(`  … and ${planned - shown} more records\n`);
            const verb = opts.apply ? 'fixed' : 'would fix';
            const lines = [
              `${opts.apply ? '' : 'dry run (nothing written; add --apply to write): '}${verb} ${counts.fixed} values; unchanged ${counts.unchanged}; skipped ${counts.skipped}; errors ${counts.errors}`,
            ];
            if (counts.stale > 0)
              lines.push(
                `  of the skipped, ${counts.stale} changed in the CRM since the scan and were left as they are now`,
              );
            if (opts.markField)
              lines.push(
                `  ${opts.markField}: ${opts.apply ? 'set' : 'would set'} on ${counts.marked} records`,
              );
            lines.push(`Bitrix24 REST requests: ${requests}`);
            process.stdout.write(`${lines.join('\n')}\n`);
          }
          if (counts.errors > 0) process.exitCode = 1;
        } catch (err) {
          process.stderr.write(`\nerror: fix failed: ${(err as Error).message}\n`);
          process.exitCode = err instanceof ValidationError ? EXIT_USAGE : 1;
        } finally {
          await s.close();
        }
      },
    );
}
