import { type Config, ConfigError, loadConfig } from '../config.js';

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
