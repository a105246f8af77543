import { type Config, ConfigError, loadConfig } from '../config.js';
import { type Connection, listPortals, type Portal } from '../store/index.js';

/** Loads the configuration or prints what is wrong and exits 2. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n(see README.md, "Configuration")\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Prints an error for a person (no stack) and exits with `code`. */
export function fail(message: string, code = 1): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

/**
 * The portal a command works on (SPEC §6 `--portal <member_id or domain>`): the one named,
 * or the only installed one. Exits 2 with the installed portals listed when it is ambiguous
 * or unknown.
 */
export async function resolvePortal(conn: Connection, given: string | undefined): Promise<Portal> {
  const portals = (await listPortals(conn)).filter((p) => p.status === 'active');
  const names = portals.map((p) => `${p.domain} (${p.id})`).join(', ');
  if (given) {
    const p = portals.find((x) => x.id === given || x.domain === given);
    if (!p) fail(`no installed portal "${given}"; installed: ${names || 'none'}`, 2);
    return p;
  }
  if (portals.length === 1) return portals[0] as Portal;
  if (portals.length === 0)
    fail('no installed portal: install the app in Bitrix24 first (it POSTs to /b24/install)', 2);
  fail(`several portals are installed: choose one with --portal (${names})`, 2);
}
