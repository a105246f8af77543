/** An error answer of the emulated portal: HTTP status plus Bitrix24's `{error, error_description}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Extra top-level fields of the answer (e.g. `time` with `operating_reset_at`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${error || 'error'}: ${description}`);
  }

  toBody(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** 400 with the given code, the status most method-level errors use in the docs. */
export const badRequest = (error: string, description: string) =>
  new ApiError(400, error, description);
