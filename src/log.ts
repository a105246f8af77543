import { type Logger, pino } from 'pino';

export type { Logger };

/** One JSON logger for the service; secrets in known places are redacted. */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = {
    level,
    base: { service: 'b24-mts-sms' },
    redact: {
      paths: [
        'req.headers.authorization',
        '*.access_token',
        '*.refresh_token',
        '*.application_token',
        '*.password',
        'auth',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}

/** A logger that prints nothing (tests, benches). */
export const silentLogger: Logger = pino({ level: 'silent' });
