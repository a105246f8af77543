import qs from 'qs';
import { ApiError, badRequest } from './apiError.js';
import type { MethodReply, Params } from './methods/types.js';
import { param, reply } from './methods/types.js';
import { timeInfo } from './timeInfo.js';

/** Bitrix24's cap on `cmd` entries (`how-to-call-rest-api/batch.md`). */
export const MAX_BATCH = 50;

/** Runs one sub-command; throws ApiError like a top-level call would. */
export type SubCall = (method: string, params: Params) => MethodReply;

const REF = /\$result\[([^\]]+)\]((?:\[[^\]]*\])*)/g;

function lookup(results: Record<string, unknown>, key: string, path: string): unknown {
  let cur: unknown = results[key];
  for (const m of path.matchAll(/\[([^\]]*)\]/g)) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[m[1] as string];
  }
  return cur;
}

/** Replaces `$result[key][field]…` references with earlier results, as the portal does. */
function substitute(value: unknown, results: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$result\[([^\]]+)\]((?:\[[^\]]*\])*)$/.exec(value);
    if (whole) {
      const found = lookup(results, whole[1] as string, whole[2] ?? '');
      return found === undefined ? value : found;
    }
    return value.replace(REF, (ref, key: string, path: string) => {
      const found = lookup(results, key, path);
      return found === undefined || (found !== null && typeof found === 'object')
        ? ref
        : String(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, results));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, results)]));
  }
  return value;
}

/** PHP writes an empty map as `[]`. */
const phpMap = (m: Record<string, unknown>) => (Object.keys(m).length > 0 ? m : []);

/**
 * Executes `batch`: each `cmd` entry is `"method?query"` parsed like a PHP request, run in
 * order, and reported under its key in `result` / `result_error` / `result_total` /
 * `result_next` / `result_time`. With `halt` set the first error stops the rest.
 * The whole batch is one request for the rate limit (limits.md).
 */
export function runBatch(params: Params, call: SubCall, now: () => number): MethodReply {
  const haltRaw = param(params, 'halt');
  const halt =
    haltRaw === true || haltRaw === 1 || haltRaw === '1' || haltRaw === 'true' || haltRaw === 'Y';
  const cmdRaw = param(params, 'cmd');
  const cmd: Record<string, unknown> = Array.isArray(cmdRaw)
    ? Object.fromEntries(cmdRaw.map((v, i) => [String(i), v]))
    : cmdRaw && typeof cmdRaw === 'object'
      ? (cmdRaw as Record<string, unknown>)
      : {};
  const keys = Object.keys(cmd);
  if (keys.length > MAX_BATCH)
    throw badRequest('ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded');
  const results: Record<string, unknown> = {};
  const errors: Record<string, unknown> = {};
  const totals: Record<string, unknown> = {};
  const nexts: Record<string, unknown> = {};
  const times: Record<string, unknown> = {};
  for (const key of keys) {
    const command = cmd[key];
    const started = now();
    if (typeof command !== 'string' || !command) {
      errors[key] = { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' };
      if (halt) break;
      continue;
    }
    const q = command.indexOf('?');
    const method = (q < 0 ? command : command.slice(0, q)).trim().toLowerCase();
    const query = q < 0 ? '' : command.slice(q + 1);
    if (method === 'batch') {
      errors[key] = {
        error: 'ERROR_BATCH_METHOD_NOT_ALLOWED',
        error_description: 'Method is not allowed for batch usage',
      };
      if (halt) break;
      continue;
    }
    const sub = substitute(
      qs.parse(query, { depth: 10, arrayLimit: 1000, parameterLimit: 10_000 }),
      results,
    );
    try {
      const r = call(method, sub as Params);
      results[key] = r.result;
      if (r.total !== undefined) totals[key] = r.total;
      if (r.next !== undefined) nexts[key] = r.next;
      times[key] = timeInfo(started, now());
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors[key] = err.toBody();
      if (halt) break;
    }
  }
  return reply({
    result: phpMap(results),
    result_error: phpMap(errors),
    result_total: phpMap(totals),
    result_next: phpMap(nexts),
    result_time: phpMap(times),
  });
}
