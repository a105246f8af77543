import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import {
  AudienceError,
  type AudienceSource,
  CampaignError,
  type CampaignStatus,
} from '../core/campaigns/campaigns.js';
import { NO_SANDBOX, runningSandbox } from '../sandboxFile.js';
import { createService, type Service } from '../service.js';
import { cliLogger, configOrExit, fail, resolvePortal } from './common.js';
import { makeProgress } from './progress.js';

/** Runs `fn` with a service (no workers, no HTTP): the running `serve` does the sending. */
async function withService<T>(fn: (service: Service, config: Config) => Promise<T>): Promise<T> {
  const config = configOrExit();
  // Sandbox mode (as `serve` decides it): the emulated portal, its sample CRM and the MTS
  // emulator live inside the running `serve`; without it there is nothing to work with.
  const sandbox = config.sandbox ? runningSandbox(config) : null;
  if (config.sandbox && !sandbox) fail(NO_SANDBOX, 2);
  const service = await createService({
    config,
    logger: cliLogger(config),
    ...(sandbox ? { endpoints: sandbox } : {}),
  }).catch((err: unknown) => fail(`cannot open the service: ${(err as Error).message}`));
  try {
    return await fn(service, config);
  } catch (err) {
    if (err instanceof CampaignError || err instanceof AudienceError) fail(err.message, 2);
    throw err;
  } finally {
    await service.close();
  }
}

function campaignId(raw: string): number {
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0) fail(`campaign ID must be a number, got "${raw}"`, 2);
  return id;
}

const print = (json: boolean | undefined, value: unknown, human: string) =>
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : human);

function humanStatus(s: CampaignStatus): string {
  const done = s.sent + s.failed;
  const pct = s.recipients ? Math.floor((done / s.recipients) * 100) : 100;
  return [
    `campaign ${s.id} "${s.name}": ${s.state}, ${pct}% (${done}/${s.recipients})`,
    `  queued ${s.queued}, sent ${s.sent} (delivered ${s.delivered}, undelivered ${s.undelivered}), failed ${s.failed}${s.cancelled ? `, cancelled ${s.cancelled}` : ''}`,
    `  excluded ${s.excluded}: ${Object.entries(s.excluded_by)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
  ].join('\n');
}

export function campaignCommand(program: Command): void {
  const campaign = program
    .command('campaign')
    .description(
      'Mass SMS run by this service from a CRM filter or a CSV: consent, opt-outs, invalid and duplicate numbers removed; an estimate before anything is sent',
    );

  campaign
    .command('create')
    .description(
      'Compute the audience and the estimate and store the campaign as a draft (sends nothing)',
    )
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption(
      '--text <text>',
      'SMS template: #CONTACT_NAME#, #LEAD_TITLE#, any #FIELD# of the record, or #COLUMN# of the CSV',
    )
    .option('--entity <contact|lead>', 'the CRM records to send to')
    .option('--filter <json>', 'crm.<entity>.list filter, e.g. \'{"TYPE_ID":"CLIENT"}\'')
    .option('--csv <file>', 'recipients from a CSV file with a "phone" column (, or ; separated)')
    .option('--sender <alpha>', "Sender ID (default: the portal's marketing one)")
    .option('--at <iso-8601>', 'do not send before this time, e.g. 2026-12-05T10:00:00+03:00')
    .option('--no-timeline', "do not log each SMS on the CRM record's timeline")
    .option('--portal <member_id or domain>', 'the portal (optional when only one is installed)')
    .option('--json', 'print the estimate as JSON')
    .action(
      async (opts: {
        name: string;
        text: string;
        entity?: string;
        filter?: string;
        csv?: string;
        sender?: string;
        at?: string;
        timeline: boolean;
        portal?: string;
        json?: boolean;
      }) => {
        if (Boolean(opts.entity) === Boolean(opts.csv))
          fail('give either --entity contact|lead (with an optional --filter) or --csv FILE', 2);
        let source: AudienceSource;
        if (opts.csv) {
          let text: string;
          try {
            text = readFileSync(opts.csv, 'utf8');
          } catch (err) {
            fail(`cannot read ${opts.csv}: ${(err as Error).message}`, 2);
          }
          source = { kind: 'csv', text, name: basename(opts.csv) };
        } else {
          if (opts.entity !== 'contact' && opts.entity !== 'lead')
            fail(`--entity must be contact or lead, got "${opts.entity}"`, 2);
          let filter: Record<string, unknown> | undefined;
          if (opts.filter) {
            try {
              filter = JSON.parse(opts.filter);
            } catch {
              fail('--filter must be a JSON object, e.g. \'{"TYPE_ID":"CLIENT"}\'', 2);
            }
            if (!filter || typeof filter !== 'object' || Array.isArray(filter))
              fail('--filter must be a JSON object', 2);
          }
          source = { kind: 'crm', entity: opts.entity, ...(filter ? { filter } : {}) };
        }
        let sendAt: number | undefined;
        if (opts.at) {
          sendAt = Date.parse(opts.at);
          if (Number.isNaN(sendAt)) fail(`--at: not an ISO-8601 time: "${opts.at}"`, 2);
        }
        if (opts.sender && !/^[A-Za-z0-9 ._-]{1,11}$/.test(opts.sender))
          fail('--sender: a Sender ID is at most 11 Latin letters, digits, space . _ -', 2);
        await withService(async (service) => {
          const portal = await resolvePortal(service.conn, opts.portal);
          const reading = makeProgress(process.stderr, 'reading the CRM', 'records');
          let read = 0;
          const r = await service.campaigns.create({
            portalId: portal.id,
            name: opts.name,
            template: opts.text,
            source,
            ...(opts.sender ? { sender: opts.sender } : {}),
            ...(sendAt !== undefined ? { sendAt } : {}),
            timeline: opts.timeline,
            onProgress: (n) => {
              read = n;
              reading.update(n, undefined);
            },
          });
          if (read > 0) reading.finish();
          const ex = Object.entries(r.excluded).filter(([, v]) => v > 0);
          print(
            opts.json,
            r,
            [
              `campaign ${r.id} created (draft): ${r.recipients} recipients`,
              `  excluded: ${ex.length ? ex.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`,
              `  ${r.parts} SMS parts${r.cost !== null ? `, cost ${r.cost.toFixed(2)} BYN` : ' (set PRICE_PER_PART for a cost)'}`,
              `  about ${Math.ceil(r.duration_s / 60)} min of sending at the contract's rate (quiet hours included)`,
              `next: \`campaign test ${r.id} --to <your phone>\`, then \`campaign start ${r.id}\``,
              '',
            ].join('\n'),
          );
        });
      },
    );

  campaign
    .command('test')
    .description("Send the first recipient's SMS text to test phones now")
    .argument('<id>', 'campaign ID')
    .requiredOption('--to <phones>', 'comma-separated phone numbers')
    .option('--json', 'print the queued test messages as JSON')
    .action(async (id: string, opts: { to: string; json?: boolean }) => {
      const phones = opts.to
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      if (phones.length === 0) fail('--to: at least one phone number', 2);
      const n = campaignId(id);
      await withService(async (service) => {
        const sent = await service.campaigns.test(n, phones);
        print(
          opts.json,
          sent,
          `${sent.map((s) => `test SMS to ${s.to}: ${s.state} (message ${s.messageId})`).join('\n')}\nthe running service sends it within a second\n`,
        );
      });
    });

  const moves = [
    ['start', 'Start sending (returns at once; the running service sends)'],
    ['pause', 'Stop sending now; unsent messages wait for resume'],
    ['resume', 'Continue a paused campaign'],
    ['cancel', 'Stop for good; recipients not sent yet are cancelled'],
  ] as const;
  for (const [name, description] of moves) {
    campaign
      .command(name)
      .description(description)
      .argument('<id>', 'campaign ID')
      .option('--json', 'print the status as JSON')
      .action(async (id: string, opts: { json?: boolean }) => {
        const n = campaignId(id);
        await withService(async (service) => {
          await service.campaigns[name](n);
          const s = await service.campaigns.status(n);
          print(opts.json, s, humanStatus(s));
        });
      });
  }

  campaign
    .command('status')
    .description('Progress of a campaign')
    .argument('<id>', 'campaign ID')
    .option('--watch', 'follow it with a progress bar until it is done, paused or cancelled')
    .option('--json', 'print the status as JSON')
    .action(async (id: string, opts: { watch?: boolean; json?: boolean }) => {
      const n = campaignId(id);
      await withService(async (service) => {
        let s = await service.campaigns.status(n);
        if (opts.watch) {
          // Counted from where the watch joins, so the rate and the ETA are this run's.
          const progress = makeProgress(process.stderr, `campaign ${n}`, 'SMS');
          const base = s.sent + s.failed;
          while (s.state === 'running') {
            progress.update(s.sent + s.failed - base, s.recipients - base);
            await new Promise((r) => setTimeout(r, 1000));
            s = await service.campaigns.status(n);
          }
          progress.update(s.sent + s.failed - base, s.recipients - base);
          progress.finish();
        }
        print(opts.json, s, humanStatus(s));
      });
    });

  campaign
    .command('list')
    .description('Campaigns, newest first')
    .option('--portal <member_id or domain>', 'only this portal')
    .option('--json', 'print them as JSON')
    .action(async (opts: { portal?: string; json?: boolean }) => {
      await withService(async (service) => {
        const portalId = opts.portal
          ? (await resolvePortal(service.conn, opts.portal)).id
          : undefined;
        const list = await service.campaigns.list(portalId);
        const rows = list.map((c) => ({
          id: c.id,
          name: c.name,
          state: c.state,
          portal: c.portal_id,
          recipients: c.recipients,
          fed: c.fed,
          created_at: new Date(c.created_at).toISOString(),
        }));
        print(
          opts.json,
          rows,
          rows.length
            ? `${rows.map((r) => `${String(r.id).padStart(4)}  ${r.state.padEnd(9)} ${String(r.recipients).padStart(7)} recipients  ${r.name}`).join('\n')}\n`
            : 'no campaigns yet: `campaign create --help`\n',
        );
      });
    });
}
