import type { Command } from 'commander';
import { normalizePhone } from '../domain/phone.js';
import {
  ALL_PORTALS,
  addOptout,
  type Connection,
  connect,
  listOptouts,
  migrate,
  type Optout,
  removeOptout,
} from '../store/index.js';
import { configOrExit } from './common.js';

/** Where the command writes; tests pass their own. */
export interface OptoutIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** Exit code for input we refuse (an invalid phone number), as for configuration errors. */
const EXIT_USAGE = 2;

function scopeText(o: Pick<Optout, 'scope'>): string {
  return o.scope === ALL_PORTALS ? 'all portals' : `portal ${o.scope}`;
}

function line(o: Optout): string {
  const when = new Date(o.created_at).toISOString().slice(0, 16).replace('T', ' ');
  return `${o.phone}  ${scopeText(o)}  since ${when} UTC  (${o.source}${o.reason ? `: ${o.reason}` : ''})`;
}

/**
 * `optout add|remove|list`: the numbers that never get marketing SMS, whatever their CRM
 * consent says. Invalid numbers are refused with exit code 2.
 */
export function optoutCommand(program: Command, io: OptoutIo = process): void {
  const optout = program
    .command('optout')
    .description(
      'Manage the opt-out list: numbers that never get marketing SMS, whatever the CRM consent field says',
    );

  /** Opens the database, brings the schema up to date, runs `fn`, closes. */
  async function withDb(fn: (conn: Connection) => Promise<void>): Promise<void> {
    const config = configOrExit();
    const conn = connect(config.DATABASE_URL);
    try {
      await migrate(conn);
      await fn(conn);
    } catch (err) {
      io.stderr.write(`error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await conn.close();
    }
  }

  /** The normalized number, or undefined after telling the user why it was refused. */
  function phoneOrRefuse(input: string): string | undefined {
    const n = normalizePhone(input);
    if (n.ok) return n.phone;
    io.stderr.write(`error: ${n.message} (${n.reason}); nothing changed\n`);
    process.exitCode = EXIT_USAGE;
    return undefined;
  }

  optout
    .command('add')
    .description('Stop marketing SMS to a number (all portals unless --portal is given)')
    .argument('<phone>', 'Belarus mobile number, any common format, e.g. "8 029 123-45-67"')
    .option(
      '--reason <text>',
      'why, shown in the failure reason of refused messages, e.g. "reply STOP"',
    )
    .option('--portal <id>', 'only for this portal (its member_id)')
    .action(async (input: string, opts: { reason?: string; portal?: string }) => {
      const phone = phoneOrRefuse(input);
      if (!phone) return;
      await withDb(async (conn) => {
        const { optout: o, created } = await addOptout(
          conn,
          { phone, portalId: opts.portal ?? null, reason: opts.reason ?? null, source: 'cli' },
          Date.now(),
        );
        io.stdout.write(
          created ? `opted out: ${o.phone} (${scopeText(o)})\n` : `already opted out: ${line(o)}\n`,
        );
      });
    });

  optout
    .command('remove')
    .description('Allow marketing SMS to a number again (its CRM consent still has to say yes)')
    .argument('<phone>', 'Belarus mobile number, any common format')
    .option('--portal <id>', "remove only this portal's entry (default: every entry of the number)")
    .action(async (input: string, opts: { portal?: string }) => {
      const phone = phoneOrRefuse(input);
      if (!phone) return;
      await withDb(async (conn) => {
        const removed = await removeOptout(conn, phone, opts.portal ?? null);
        if (removed.length === 0) {
          io.stdout.write(
            `${phone} was not on the opt-out list${opts.portal ? ` of portal ${opts.portal}` : ''}\n`,
          );
          return;
        }
        io.stdout.write(`removed: ${phone} (${removed.map(scopeText).join(', ')})\n`);
      });
    });

  optout
    .command('list')
    .description('Print the opt-out list, oldest first')
    .option('--json', 'one JSON array: [{phone, scope, reason, source, createdAt}]')
    .option('--portal <id>', 'only the entries that apply to this portal (its own and global ones)')
    .action(async (opts: { json?: boolean; portal?: string }) => {
      await withDb(async (conn) => {
        const rows = await listOptouts(conn, opts.portal ? { portalId: opts.portal } : {});
        if (opts.json) {
          const out = rows.map((o) => ({
            phone: o.phone,
            scope: o.scope === ALL_PORTALS ? 'all' : o.scope,
            reason: o.reason,
            source: o.source,
            createdAt: new Date(o.created_at).toISOString(),
          }));
          io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          io.stdout.write('the opt-out list is empty\n');
          return;
        }
        io.stdout.write(`${rows.map(line).join('\n')}\n${rows.length} number(s)\n`);
      });
    });
}
