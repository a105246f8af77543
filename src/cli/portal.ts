import type { Command } from 'commander';
import {
  applySettings,
  type SettingsChange,
  type SettingsInput,
  settingsChange,
} from '../core/portalSettings.js';
import {
  connect,
  getContract,
  getPortal,
  listContracts,
  listPortals,
  migrate,
  portalContractId,
  portalFootprint,
  portalSettings,
  removePortal,
} from '../store/index.js';
import { configOrExit, fail } from './common.js';

export function portalCommand(program: Command): void {
  const portal = program
    .command('portal')
    .description('Installed Bitrix24 portals and their per-portal settings');

  portal
    .command('list')
    .description('List installed portals with their settings')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const config = configOrExit();
      const conn = connect(config.DATABASE_URL);
      try {
        await migrate(conn);
        const contracts = new Map((await listContracts(conn)).map((c) => [c.id, c]));
        const rows = (await listPortals(conn)).map((p) => {
          const c = contracts.get(portalContractId(p.id));
          return {
            memberId: p.id,
            domain: p.domain,
            status: p.status,
            registered: Boolean(p.registered_at),
            settings: portalSettings(p),
            // Secrets are never printed back: only whether they are set.
            mts: c
              ? {
                  contract: c.id,
                  clientId: c.client_id,
                  login: c.login,
                  password: c.password_enc ? 'set' : null,
                  token: c.token_enc ? 'set' : null,
                  rate: c.rate,
                  url: c.api_url,
                }
              : { contract: 'default' },
          };
        });
        if (o.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) process.stdout.write('no portal installed yet\n');
        else
          for (const r of rows)
            process.stdout.write(
              `${r.domain}  member_id ${r.memberId}  ${r.status}${r.registered ? '' : ' (provider not registered)'}  ${JSON.stringify(r.settings)}  MTS ${JSON.stringify(r.mts)}\n`,
            );
      } finally {
        await conn.close();
      }
    });

  portal
    .command('set <member_id>')
    .description(
      'Change per-portal settings (each falls back to the service configuration when unset). Restart the service for --rest-rate/--rest-burst to apply.',
    )
    .option('--sender <alpha>', 'alpha name for transactional SMS (overrides MTS_SENDER)')
    .option(
      '--sender-marketing <alpha>',
      'alpha name for marketing SMS (overrides MTS_SENDER_MARKETING)',
    )
    .option(
      '--quiet-hours <spec>',
      'marketing quiet hours, Europe/Minsk: "21:00-09:00" (every day), "workdays 20:00-09:00; weekends 18:00-11:00" (weekends include Belarusian public holidays), "mts" (the MTS curfew), or "" for none',
    )
    .option('--timeline-notes <on|off>', 'CRM timeline note when a card SMS fails (default on)')
    .option(
      '--language <ru|en|auto>',
      'language of timeline notes and admin alerts (default auto: the portal’s language, Russian unless it is another)',
    )
    .option(
      '--robot-trace <log|comment|off>',
      "how a robot's SMS shows on the CRM card: timeline log entry (default), comment, or none",
    )
    .option('--enterprise', 'Bitrix24 Enterprise REST limits (5 req/s, burst 250)')
    .option('--rest-rate <n>', 'Bitrix24 REST requests per second for this portal')
    .option('--rest-burst <n>', 'Bitrix24 REST burst for this portal')
    .option('--mts-client-id <id>', "this portal's own MTS contract: numeric client id")
    .option('--mts-login <login>', 'its MTS API login')
    .option('--mts-password <password>', 'its MTS API password (stored encrypted with SECRET_KEY)')
    .option('--mts-token <token>', 'its MTS API token instead of login/password (encrypted)')
    .option('--mts-rate <n>', 'its contracted MTS requests per second (default 10)')
    .option('--mts-url <url>', 'its MTS API address (default MTS_API_URL)')
    .option('--mts-default', "drop the portal's own contract: it sends on the configured one again")
    .option(
      '--senders <alpha,…>',
      'extra alpha names a manager may choose in the CRM (one Bitrix24 provider each; "" for none); run `register` after changing them',
    )
    .option(
      '--consent-field <name>',
      'the CRM boolean user field holding marketing consent (default CONSENT_FIELD; "" for that); the registry is read again from it',
    )
    .option(
      '--alert-user-id <id>',
      'the Bitrix24 user who gets alerts (default: the installing administrator)',
    )
    .action(async (memberId: string, o: Omit<SettingsInput, 'senders'> & { senders?: string }) => {
      const config = configOrExit();
      const { senders, ...rest } = o;
      const input: SettingsInput = {
        ...rest,
        ...(senders !== undefined ? { senders: senders.split(',') } : {}),
      };
      const conn = connect(config.DATABASE_URL);
      try {
        await migrate(conn);
        const known = (await listPortals(conn)).find(
          (p) => p.id === memberId || p.domain === memberId,
        );
        if (!known)
          fail(
            `no installed portal with member_id or domain "${memberId}" (see \`b24-mts-sms portal list\`)`,
            2,
          );
        let change: SettingsChange;
        try {
          change = settingsChange(input, {
            secretKey: config.SECRET_KEY,
            existing: await getContract(conn, portalContractId(known.id)),
          });
        } catch (err) {
          fail((err as Error).message, 2);
        }
        if (Object.keys(change.patch).length === 0 && !change.contract && !change.dropContract)
          fail('nothing to change: see `b24-mts-sms portal set --help`', 2);
        await applySettings(conn, known, change, Date.now());
        const after = (await getPortal(conn, known.id)) ?? known;
        process.stdout.write(`${known.domain}: ${JSON.stringify(portalSettings(after))}\n`);
        if (change.dropContract)
          process.stdout.write(`${known.domain}: sends on the configured MTS account again\n`);
        if (change.contract)
          process.stdout.write(
            `${known.domain}: own MTS contract, client id ${change.contract.clientId}, ${change.contract.rate} req/s (secrets stored encrypted; the running service picks it up within seconds)\n`,
          );
      } finally {
        await conn.close();
      }
    });

  portalRemoveCommand(portal);
}

/** Asks a person on a terminal to type `expected`; false on anything else. */
async function confirmByTyping(question: string, expected: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}

export function portalRemoveCommand(portal: Command): void {
  portal
    .command('remove <member_id_or_domain>')
    .description(
      "Delete a portal and everything of it: its Bitrix24 tokens, its own MTS contract and credentials, its messages and their history (waiting ones unsent), campaigns, phone scans, consent registry, opt-outs and figures. Asks you to type the portal's domain, or --yes. The app stays installed in Bitrix24: uninstall it there too",
    )
    .option('--yes', 'do not ask (scripts)')
    .action(async (named: string, o: { yes?: boolean }) => {
      const config = configOrExit();
      const conn = connect(config.DATABASE_URL);
      try {
        await migrate(conn);
        const p = (await listPortals(conn)).find((x) => x.id === named || x.domain === named);
        if (!p) fail(`no portal "${named}" (see \`b24-mts-sms portal list\`)`, 2);
        const f = await portalFootprint(conn, p.id);
        const what = `${p.domain} (member_id ${p.id}): ${f.messages} message(s)${f.waiting ? `, ${f.waiting} of them not sent yet` : ''}, ${f.campaigns} campaign(s)${f.ownContract ? ', its own MTS contract and credentials' : ''}, its tokens`;
        if (!o.yes) {
          if (!process.stdin.isTTY)
            fail(`this deletes ${what}. Add --yes to confirm without a terminal.`, 2);
          process.stderr.write(`This deletes ${what}.\n`);
          if (
            !(await confirmByTyping(
              `Type the portal's domain (${p.domain}) to delete it: `,
              p.domain,
            ))
          )
            fail('not confirmed: nothing was deleted', 1);
        }
        await removePortal(conn, p.id);
        process.stdout.write(
          `deleted ${what}.\nThe app is still installed in ${p.domain}: uninstall it there (Applications → the app → Delete); until then its SMS are refused (unknown portal).\n`,
        );
      } finally {
        await conn.close();
      }
    });
}
