import { Bitrix24Error } from './errors.js';

/** Reads a response body as a JSON object; `undefined` when it is empty or not a JSON object. */
export async function readJson(res: Response): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return undefined;
  }
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Connection errors raised before anything was sent: the peer cannot have acted. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A fetch that threw (refused, reset, timed out): retryable, ambiguous unless surely unsent. */
export function transportError(what: string, err: unknown): Bitrix24Error {
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  const code = cause?.code ?? (err as { code?: string } | undefined)?.code;
  const timedOut = (err as { name?: string } | undefined)?.name === 'TimeoutError';
  const reason = timedOut
    ? 'timed out'
    : (code ?? (err instanceof Error ? err.message : String(err)));
  return new Bitrix24Error(`Bitrix24 ${what} failed: ${reason}`, {
    action: 'retry',
    code: timedOut ? 'B24_TIMEOUT' : 'B24_NETWORK',
    ambiguous: !(code && NOT_SENT.has(code)),
    cause: err,
  });
}
