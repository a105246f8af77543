/**
 * Error codes the emulator answers with. Only 36024 is a documented MTS code; the others
 * are the emulator's picks (MTS publishes no list), chosen in the same 36xxx range so
 * nothing in our code can depend on their exact values.
 */
export const EMU_CODES = {
  /** Body is not the expected JSON shape (missing or mistyped field). */
  invalidRequest: 36000,
  /** `alpha_name` is not registered for this client. */
  unknownAlphaName: 36016,
  /** `ttl` outside 300–259200 s. */
  ttlOutOfRange: 36018,
  /** `text` longer than 5 parts. */
  textTooLong: 36019,
  /** Documented MTS code: the phone number is not valid. */
  phoneIncorrect: 36024,
} as const;

/** An MTS error answer: HTTP status plus the `{"error_code","error_text"}` body. */
export interface MtsRefusal {
  httpStatus: number;
  body: { error_code: number; error_text: string };
}

export function refusal(httpStatus: number, errorCode: number, errorText: string): MtsRefusal {
  return { httpStatus, body: { error_code: errorCode, error_text: errorText } };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  402: 'Insufficient balance',
  403: 'Forbidden',
  404: 'Not found',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** The body the emulator sends for an injected failure when the test gives none. */
export function defaultErrorBody(httpStatus: number): MtsRefusal['body'] {
  return { error_code: httpStatus, error_text: STATUS_TEXT[httpStatus] ?? `HTTP ${httpStatus}` };
}
