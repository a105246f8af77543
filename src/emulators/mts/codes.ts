/**
 * The MTS error codes the emulator answers with: MTS Belarus's own codes (its status table,
 * SPEC §2) with MTS's English texts. The emulator keeps its own copy rather than importing
 * the service's table, so that it judges independently of the code under test.
 */
export const MTS_ERRORS = {
  /** Wrong login/password (2020 document); sent with HTTP 401. */
  incorrectPassword: [1130, 'Incorrect password'],
  mandatoryFieldMissing: [10217, 'Mandatory field missing'],
  incorrectDataFormat: [10218, 'Incorrect data format in field'],
  incorrectDataType: [10219, 'Incorrect data type in field of message'],
  connectionNotActive: [10222, 'Connection not active'],
  throttled: [10224, 'Message rejected due to reaching maximum incoming message rate'],
  quotaNotEnough: [10229, 'Quota is not enough'],
  phoneIncorrect: [10243, 'Phone number incorrect'],
  startTimeInPast: [10244, 'Start time in past'],
  startTimeTooFar: [10245, 'Start time too far in future'],
  extraIdTooLong: [10246, 'Extra id too long'],
  channelsMissing: [10247, 'Channels missing'],
  channelNotPermitted: [10248, 'One of the channels is not allowed'],
  incorrectChannelTtl: [10259, 'Incorrect channel TTL'],
  textTooLong: [10260, 'SMS text too long'],
  textMissing: [10261, 'SMS message text missing'],
  alphaNameNotPermitted: [10262, 'Not allowed to use this alpha name'],
} as const satisfies Record<string, readonly [number, string]>;

export type MtsErrorName = keyof typeof MTS_ERRORS;

/**
 * An MTS error answer: the `{"error_code","error_text"}` body and, when it is an HTTP-level
 * error (401, 404, 429, 5xx), its status. Without one, the emulator's `errorHttpStatus`
 * applies (200 by default: MTS answers its own error codes inside a 200).
 */
export interface MtsRefusal {
  httpStatus?: number;
  body: { error_code: number; error_text: string };
}

/** A refusal with one of MTS's codes; `detail` is appended to MTS's text. */
export function mtsRefusal(name: MtsErrorName, detail?: string): MtsRefusal {
  const [code, text] = MTS_ERRORS[name];
  return { body: { error_code: code, error_text: detail ? `${text}: ${detail}` : text } };
}

/** An HTTP-level refusal (401, 404, 429, 5xx) with the status as its code, unless given. */
export function httpRefusal(httpStatus: number, text: string, code = httpStatus): MtsRefusal {
  return { httpStatus, body: { error_code: code, error_text: text } };
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
