import qs from 'qs';
import { Bitrix24Error } from './errors.js';
import type { BatchCommand, BatchItemResult } from './types.js';

/** Bitrix24 runs at most this many commands per `batch` call (`how-to-call-rest-api/batch.md`). */
export const MAX_BATCH_COMMANDS = 50;

/**
 * Encodes one command as Bitrix24 expects inside `cmd`: `"method?query"` with PHP-style
 * bracketed keys (`fields[PHONE][0][VALUE]=…`), as the official SDKs do. The portal parses
 * the query like a PHP request, so nested objects and arrays survive.
 */
export function encodeBatchCommand(command: BatchCommand): string {
  const query = qs.stringify(command.params ?? {}, { arrayFormat: 'indices' });
  return query ? `${command.method}?${query}` : command.method;
}

/** Builds the `cmd` object of a batch call; throws when there are more than 50 commands. */
export function encodeBatch(commands: Record<string, BatchCommand>): Record<string, string> {
  const keys = Object.keys(commands);
  if (keys.length > MAX_BATCH_COMMANDS) {
    throw new Bitrix24Error(
      `Bitrix24 batch takes at most ${MAX_BATCH_COMMANDS} commands, got ${keys.length}: split it`,
      { action: 'permanent', code: 'B24_BATCH_TOO_LARGE' },
    );
  }
  const cmd: Record<string, string> = {};
  for (const key of keys) cmd[key] = encodeBatchCommand(commands[key] as BatchCommand);
  return cmd;
}

/**
 * PHP encodes an empty array as `[]` and a list keyed 0..n as a JSON array, so every
 * per-key map in a batch answer may arrive as an array: index it the same way.
 */
function asKeyed(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  if (value && typeof value === 'object') return value as Record<string, unknown>;
  return {};
}

function asNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/**
 * Maps the `result` of a batch answer (`{result, result_error, result_total, result_next}`)
 * to one outcome per requested key. A key present in neither map did not run (e.g. the
 * batch halted): it is reported as an error `NOT_EXECUTED`.
 */
export function decodeBatch(keys: string[], answer: unknown): Record<string, BatchItemResult> {
  const body = asKeyed(answer);
  const results = asKeyed(body.result);
  const errors = asKeyed(body.result_error);
  const totals = asKeyed(body.result_total);
  const nexts = asKeyed(body.result_next);
  const out: Record<string, BatchItemResult> = {};
  for (const key of keys) {
    const err = errors[key];
    if (err !== undefined) {
      const e = asKeyed(err);
      const description = typeof e.error_description === 'string' ? e.error_description : undefined;
      out[key] = {
        ok: false,
        error: typeof e.error === 'string' && e.error ? e.error : 'UNKNOWN_ERROR',
        ...(description ? { description } : {}),
      };
    } else if (key in results) {
      const total = asNumber(totals[key]);
      const next = asNumber(nexts[key]);
      out[key] = {
        ok: true,
        result: results[key],
        ...(total !== undefined ? { total } : {}),
        ...(next !== undefined ? { next } : {}),
      };
    } else {
      out[key] = {
        ok: false,
        error: 'NOT_EXECUTED',
        description: 'the batch did not run this command',
      };
    }
  }
  return out;
}
