import { type Config, ConfigError, loadConfig } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import { type Connection, listPortals, type Portal } from '../store/index.js';

/**
 * Loads the configuration or prints what is wrong and exits 2. `sends`: the command sends SMS
 * (`serve`, `send`), so half a production configuration is refused too.
 */
export function configOrExit(opts: { sends?: boolean } = {}): Config {
  try {
    return loadConfig(undefined, opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n(see README.md, "Configuration")\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * The logger of a one-shot command: warnings and errors (LOG_LEVEL when it is below `info`) on
 * stderr, so stdout holds only the command's answer — `--json` output stays parseable while a
 * command waits out a Bitrix24 limit and says so.
 */
export function cliLogger(config: Config): Logger {
  return createLogger(
    config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
    process.stderr,
    config.LOG_FORMAT,
  );
}

/** Prints an error for a person (no stack) and exits with `code`. */
export function fail(message: string, code = 1): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

/**
 * The portal a command works on (SPEC §6 `--portal <member_id or domain>`): the one named, or
 * the only installed one; otherwise the one-line reason, listing the installed portals.
 */
export function choosePortal(portals: Portal[], wanted: string | undefined): Portal | string {
  const active = portals.filter((p) => p.status === 'active');
  const names = active.map((p) => `${p.domain} (${p.id})`).join(', ');
  if (wanted) {
    const found = active.find((p) => p.id === wanted || p.domain === wanted);
    return (
      found ??
      `no installed portal with member_id or domain "${wanted}"${active.length ? `; installed: ${names}` : ''}`
    );
  }
  if (active.length === 1) return active[0] as Portal;
  if (active.length === 0)
    return 'no installed portal: install the app in Bitrix24 first (it POSTs to /b24/install), see `b24-mts-sms portal list`';
  return `${active.length} portals are installed, choose one with --portal <member_id or domain>: ${names}`;
}

/** `choosePortal` over the store, exiting 2 with its reason. */
export async function resolvePortal(conn: Connection, given: string | undefined): Promise<Portal> {
  const chosen = choosePortal(await listPortals(conn), given);
  if (typeof chosen === 'string') fail(chosen, 2);
  return chosen;
}
