import {
  Bitrix24Error,
  Bitrix24RestUnavailableError,
  bitrix24ErrorFromAnswer,
  isRestUnavailable,
} from './errors.js';
import { readJson, transportError } from './http.js';

/**
 * One REST call with a token we do not hold yet (an install being verified): no bucket, no
 * refresh, no retry. Throws Bitrix24Error when the portal refuses or does not answer.
 */
export async function callWithToken<T = unknown>(req: {
  /** The portal's REST base, e.g. `https://example.bitrix24.by/rest/`. */
  clientEndpoint: string;
  method: string;
  accessToken: string;
  params?: Record<string, unknown>;
  fetch: typeof fetch;
  timeoutMs: number;
}): Promise<T> {
  let res: Response;
  try {
    res = await req.fetch(`${req.clientEndpoint}${req.method}.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...req.params, auth: req.accessToken }),
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    throw transportError(req.method, err);
  }
  const body = await readJson(res);
  if (body && typeof body.error === 'string') {
    const description =
      typeof body.error_description === 'string' ? body.error_description : undefined;
    if (isRestUnavailable(body.error, res.status, description))
      throw new Bitrix24RestUnavailableError(new URL(req.clientEndpoint).host, {
        httpStatus: res.status,
        ...(description ? { description } : {}),
      });
    throw bitrix24ErrorFromAnswer({
      what: req.method,
      httpStatus: res.status,
      b24Error: body.error,
      description,
    });
  }
  if (!res.ok || !body || !('result' in body)) {
    throw new Bitrix24Error(`Bitrix24 ${req.method} answered ${res.status} without a result`, {
      action: 'retry',
      httpStatus: res.status,
      code: 'B24_UNEXPECTED_ANSWER',
    });
  }
  return body.result as T;
}
