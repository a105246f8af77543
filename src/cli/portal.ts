import type { Command } from 'commander';
import { alphaName } from '../config.js';
import { parseQuietHours } from '../domain/quietHours.js';
import { connect, migrate } from '../store/index.js';
import {
  listPortals,
  type PortalSettings,
  portalSettings,
  updatePortalSettings,
} from '../store/portals.js';
import { configOrExit, fail } from './common.js';

interface SetOptions {
  sender?: string;
  senderMarketing?: string;
  quietHours?: string;
  timelineNotes?: string;
  restRate?: string;
  restBurst?: string;
  enterprise?: boolean;
  language?: string;
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
        const rows = (await listPortals(conn)).map((p) => ({
          memberId: p.id,
          domain: p.domain,
          status: p.status,
          registered: Boolean(p.registered_at),
          settings: portalSettings(p),
        }));
        if (o.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) process.stdout.write('no portal installed yet\n');
        else
          for (const r of rows)
            process.stdout.write(
              `${r.domain}  member_id ${r.memberId}  ${r.status}${r.registered ? '' : ' (provider not registered)'}  ${JSON.stringify(r.settings)}\n`,
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
    .option('--enterprise', 'Bitrix24 Enterprise REST limits (5 req/s, burst 250)')
    .option('--rest-rate <n>', 'Bitrix24 REST requests per second for this portal')
    .option('--rest-burst <n>', 'Bitrix24 REST burst for this portal')
    .action(async (memberId: string, o: SetOptions) => {
      const config = configOrExit();
      let patch: PortalSettings;
      try {
        patch = settingsPatch(o);
      } catch (err) {
        fail((err as Error).message, 2);
      }
      if (Object.keys(patch).length === 0)
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
      } finally {
        await conn.close();
      }
    });
}
