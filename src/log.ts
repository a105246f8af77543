import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/** `json` (one JSON object per line), `pretty` (for a person), `auto`: pretty on a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';

const require = createRequire(import.meta.url);

/**
 * Readable lines for a person, when pino-pretty is installed (a development install; a
 * production one, `--omit=dev`, logs JSON whatever is asked).
 */
function prettyStream(destination: NodeJS.WritableStream): DestinationStream | undefined {
  let pretty: (opts: Record<string, unknown>) => DestinationStream;
  try {
    pretty = require('pino-pretty') as typeof pretty;
  } catch {
    return undefined;
  }
  return pretty({
    destination,
    sync: true,
    colorize: (destination as { isTTY?: boolean }).isTTY === true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
}

/**
 * One logger for the service; secrets in known places are redacted. JSON lines by default
 * (log shippers read them); readable lines with `format` `pretty`, or `auto` on a terminal.
 */
export function createLogger(
  level = 'info',
  destination?: NodeJS.WritableStream,
  format: LogFormat = 'json',
): Logger {
  const opts = {
    level,
    base: { service: 'b24-mts-sms' },
    redact: {
      paths: [
        'req.headers.authorization',
        '*.access_token',
        '*.refresh_token',
        '*.application_token',
        'password',
        '*.password',
        'auth',
      ],
      censor: '[redacted]',
    },
  };
  const out = destination ?? process.stdout;
  const wantsPretty =
    format === 'pretty' || (format === 'auto' && (out as { isTTY?: boolean }).isTTY === true);
  const pretty = wantsPretty ? prettyStream(out) : undefined;
  if (pretty) return pino(opts, pretty);
  return destination ? pino(opts, destination as DestinationStream) : pino(opts);
}

/** A logger that prints nothing (tests, benches). */
export const silentLogger: Logger = pino({ level: 'silent' });
