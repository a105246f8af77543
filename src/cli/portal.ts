import type { Command } from 'commander';
import { alphaName } from '../config.js';
import { encryptSecret } from '../core/secrets.js';
import { parseQuietHours } from '../domain/quietHours.js';
import {
  connect,
  DEFAULT_CONTRACT,
  deleteContract,
  inTransaction,
  listContracts,
  listPortals,
  migrate,
  moveWaitingMessages,
  type PortalSettings,
  portalContractId,
  portalSettings,
  updatePortalSettings,
  upsertContract,
} from '../store/index.js';
import { configOrExit, fail } from './common.js';

interface SetOptions {
  sender?: string;
  senderMarketing?: string;
  quietHours?: string;
  timelineNotes?: string;
  robotTrace?: string;
  restRate?: string;
  restBurst?: string;
  enterprise?: boolean;
  language?: string;
  mtsClientId?: string;
  mtsLogin?: string;
  mtsPassword?: string;
  mtsToken?: string;
  mtsRate?: string;
  mtsUrl?: string;
  mtsDefault?: boolean;
}

/** The portal's own MTS contract from the `--mts-*` options, or null when none is given. */
export function contractPatch(
  o: SetOptions,
  secretKey: string | undefined,
): {
  clientId: string;
  login: string | null;
  passwordEnc: string | null;
  tokenEnc: string | null;
  rate: number;
  url: string | null;
} | null {
  const given = [o.mtsClientId, o.mtsLogin, o.mtsPassword, o.mtsToken, o.mtsRate, o.mtsUrl];
  if (given.every((v) => v === undefined)) return null;
  if (!o.mtsClientId || !/^\d+$/.test(o.mtsClientId))
    throw new Error(
      '--mts-client-id: the numeric client id from your MTS API paths is required with any --mts-* option',
    );
  if (!o.mtsToken && !(o.mtsLogin && o.mtsPassword))
    throw new Error(
      '--mts-login and --mts-password (or --mts-token) are required for a portal contract',
    );
  if ((o.mtsPassword || o.mtsToken) && !secretKey)
    throw new Error(
      'SECRET_KEY must be set to store an MTS password or token (it encrypts them at rest)',
    );
  const rate = o.mtsRate === undefined ? 10 : Number(o.mtsRate);
  if (!(rate > 0 && rate <= 1000))
    throw new Error('--mts-rate: requests per second, e.g. 10 or 30');
  if (o.mtsUrl !== undefined && !/^https?:\/\//.test(o.mtsUrl))
    throw new Error('--mts-url: an http(s) URL');
  const key = secretKey as string;
  return {
    clientId: o.mtsClientId,
    login: o.mtsLogin ?? null,
    passwordEnc: o.mtsPassword ? encryptSecret(o.mtsPassword, key) : null,
    tokenEnc: o.mtsToken ? encryptSecret(o.mtsToken, key) : null,
    rate,
    url: o.mtsUrl ? o.mtsUrl.replace(/\/+$/, '') : null,
  };
}

/** Validates the options into a settings patch; throws with a message naming the option. */
export function settingsPatch(o: SetOptions): PortalSettings {
  const patch: PortalSettings = {};
  const alpha = (v: string, flag: string) => {
    const r = alphaName.safeParse(v);
    if (!r.success) throw new Error(`${flag}: ${r.error.issues[0]?.message}`);
    return r.data;
  };
  if (o.sender !== undefined) patch.sender = alpha(o.sender, '--sender');
  if (o.senderMarketing !== undefined)
    patch.senderMarketing = alpha(o.senderMarketing, '--sender-marketing');
  if (o.quietHours !== undefined) {
    parseQuietHours(o.quietHours);
    patch.quietHours = o.quietHours;
  }
  if (o.timelineNotes !== undefined) {
    if (!['on', 'off'].includes(o.timelineNotes)) throw new Error('--timeline-notes: on or off');
    patch.timelineNotes = o.timelineNotes === 'on';
  }
  if (o.language !== undefined) {
    if (o.language !== 'ru' && o.language !== 'en' && o.language !== 'auto')
      throw new Error('--language: ru, en, or auto (the portal’s own language)');
    patch.language = o.language === 'auto' ? undefined : o.language;
  }
  if (o.robotTrace !== undefined) {
    if (!['log', 'comment', 'off'].includes(o.robotTrace))
      throw new Error('--robot-trace: log, comment or off');
    patch.robotTrace = o.robotTrace as 'log' | 'comment' | 'off';
  }
  if (o.enterprise) Object.assign(patch, { restRate: 5, restBurst: 250 });
  if (o.restRate !== undefined) {
    const n = Number(o.restRate);
    if (!(n > 0)) throw new Error('--rest-rate: a positive number of requests per second');
    patch.restRate = n;
  }
  if (o.restBurst !== undefined) {
    const n = Number(o.restBurst);
    if (!Number.isInteger(n) || n < 1) throw new Error('--rest-burst: a positive whole number');
    patch.restBurst = n;
  }
  return patch;
}

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
    .action(async (memberId: string, o: SetOptions) => {
      const config = configOrExit();
      let patch: PortalSettings;
      let contract: ReturnType<typeof contractPatch>;
      try {
        patch = settingsPatch(o);
        contract = contractPatch(o, config.SECRET_KEY);
      } catch (err) {
        fail((err as Error).message, 2);
      }
      if (Object.keys(patch).length === 0 && !contract && !o.mtsDefault)
        fail('nothing to change: see `b24-mts-sms portal set --help`', 2);
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
        const next = await updatePortalSettings(conn, known.id, patch, Date.now());
        process.stdout.write(`${known.domain}: ${JSON.stringify(next)}\n`);
        const id = portalContractId(known.id);
        if (o.mtsDefault) {
          // Messages already queued on it move back to the default contract.
          await inTransaction(conn, async (tx) => {
            await moveWaitingMessages(tx, id, DEFAULT_CONTRACT);
            await deleteContract(tx, id);
          });
          process.stdout.write(`${known.domain}: sends on the configured MTS account again\n`);
        }
        if (contract) {
          const c = await upsertContract(
            conn,
            {
              id,
              label: `MTS contract of ${known.domain}`,
              api_url: contract.url,
              client_id: contract.clientId,
              login: contract.login,
              password_enc: contract.passwordEnc,
              token_enc: contract.tokenEnc,
              sender: patch.sender ?? portalSettings(known).sender ?? null,
              sender_marketing:
                patch.senderMarketing ?? portalSettings(known).senderMarketing ?? null,
              rate: contract.rate,
            },
            Date.now(),
          );
          process.stdout.write(
            `${known.domain}: own MTS contract, client id ${c.client_id}, ${c.rate} req/s (secrets stored encrypted; the running service picks it up within seconds)\n`,
          );
        }
      } finally {
        await conn.close();
      }
    });
}
