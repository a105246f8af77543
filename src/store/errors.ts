import { BaseError } from '../errors.js';

/**
 * The database cannot be used right now: the SQLite file vanished under the service, or the
 * PostgreSQL server is unreachable. Nothing was committed; the caller must not acknowledge.
 */
export class DatabaseUnavailableError extends BaseError {
  constructor(message: string, cause?: unknown) {
    super(message, { action: 'retry', code: 'DB_UNAVAILABLE', cause });
  }
}

/**
 * The configured SQLite file does not exist and this is not a fresh install: creating an
 * empty database in its place would silently start over. Only `migrate` creates it then.
 */
export class DatabaseMissingError extends BaseError {
  constructor(message: string) {
    super(message, { action: 'permanent', code: 'DB_MISSING' });
  }
}

/**
 * Socket errors and PostgreSQL error classes that mean "the server is gone or restarting"
 * (class 08 connection exception, 57P01–57P03 shutdown / cannot connect now), as opposed to
 * an error in the query itself.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);

/** pg-pool's and pg's own wording when a connection could not be made or was cut. */
const UNREACHABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i;

/** True when `err` says the database is unreachable rather than that a query was wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  if (!err || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08')))
    return true;
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && UNREACHABLE_MESSAGES.test(message)) return true;
  // AggregateError from a failed connect to several addresses (localhost → ::1 and 127.0.0.1).
  const inner = (err as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.some(isDatabaseUnavailable);
}
