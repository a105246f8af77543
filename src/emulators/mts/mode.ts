import { z } from 'zod';

/** Fixed latency, or a uniform random one in `[min, max]` ms. */
export type Latency = number | [number, number];

/**
 * The switches of a running MTS emulator: every failure class of SPEC §2 can be turned on
 * and off at run time (programmatically, by `POST /_emulator/mode`, or by `emulate` flags).
 */
export interface MtsEmulatorMode {
  /**
   * State of the MTS account. `balance`: every send is refused with 10229 (quota/balance
   * exhausted); `inactive`: with 10222 (connection not active); `password`: every request
   * gets HTTP 401 with 1130, as with wrong credentials. Default `ok`.
   */
  account: 'ok' | 'balance' | 'inactive' | 'password';
  /**
   * Alpha names refused with 10262 (not permitted) although registered; `*` holds every
   * name. Default none.
   */
  heldAlphaNames: string[];
  /**
   * Contracted rate: API requests (sends and status lookups) admitted per sliding second;
   * null for no limit. Default: the `rateLimit` option, or null.
   */
  rate: number | null;
  /**
   * What a request over the rate gets: `throttle` → MTS's own 10224 inside the error
   * status (200); `429` → HTTP 429 with `Retry-After`. Default `throttle`.
   */
  overRate: 'throttle' | '429';
  /** Seconds in the `Retry-After` of a 429. Default 1. */
  retryAfterSec: number;
  /** Fraction (0..1) of API requests answered HTTP 503 (1 = MTS down). Default 0. */
  serverErrorRate: number;
  /**
   * Every API request hangs unanswered and is not acted upon, until this is turned off (the
   * hung requests then get 504) or the emulator closes: a client sees a timeout. For "acted
   * upon but answered late" use `latencyMs`. Default false.
   */
  hang: boolean;
  /** POST delivery reports; false drops them all (DLR loss; lookups still see the state). Default true. */
  dlr: boolean;
  /**
   * Milliseconds after its acceptance during which a message is "not found" by status
   * lookups (MTS committing late). Default 0.
   */
  lookupDelayMs: number;
  /** Delay before every API answer (the work is done first), fixed or `[min, max]`. Default 0. */
  latencyMs: Latency;
  /**
   * HTTP status of an MTS error-code answer (10xxx): 200, as MTS sends them, or e.g. 400 to
   * check a client against both. HTTP-level errors (401, 404, 429, 5xx) keep their own.
   * Default 200.
   */
  errorHttpStatus: number;
}

/** Failure classes a person can switch on by name (`--mts-fail`, `{"fault": …}`). */
export const MTS_FAULTS = [
  'balance',
  'password',
  'inactive',
  'alpha',
  'throttle',
  '429',
  '5xx',
  'timeout',
  'dlr-loss',
] as const;
export type MtsFault = (typeof MTS_FAULTS)[number];

export const DEFAULT_MODE: Readonly<MtsEmulatorMode> = Object.freeze({
  account: 'ok',
  heldAlphaNames: [],
  rate: null,
  overRate: 'throttle',
  retryAfterSec: 1,
  serverErrorRate: 0,
  hang: false,
  dlr: true,
  lookupDelayMs: 0,
  latencyMs: 0,
  errorHttpStatus: 200,
});

/** Rate a throttling fault uses when no contracted rate is set: one request per second. */
const FAULT_RATE = 1;

/**
 * The mode change a named fault makes, given the current mode (`throttle` and `429` keep a
 * contracted rate already set, else use 1 request/s).
 */
export function faultPatch(fault: MtsFault, current: MtsEmulatorMode): Partial<MtsEmulatorMode> {
  switch (fault) {
    case 'balance':
    case 'password':
    case 'inactive':
      return { account: fault };
    case 'alpha':
      return { heldAlphaNames: ['*'] };
    case 'throttle':
      return { rate: current.rate ?? FAULT_RATE, overRate: 'throttle' };
    case '429':
      return { rate: current.rate ?? FAULT_RATE, overRate: '429' };
    case '5xx':
      return { serverErrorRate: 1 };
    case 'timeout':
      return { hang: true };
    case 'dlr-loss':
      return { dlr: false };
  }
}

const latency = z.union([
  z.number().int().min(0),
  z.tuple([z.number().int().min(0), z.number().int().min(0)]),
]);

/** Body of `POST /_emulator/mode`: any mode fields, plus a named fault and an outcome. */
export const modeRequestSchema = z.strictObject({
  /** Applied first: `none` restores the emulator's initial mode, a fault name switches it on. */
  fault: z.enum([...MTS_FAULTS, 'none']).optional(),
  /** Fate of messages accepted from now on. */
  outcome: z.enum(['delivered', 'undelivered', 'expired', 'rejected', 'pending']).optional(),
  account: z.enum(['ok', 'balance', 'inactive', 'password']).optional(),
  heldAlphaNames: z.array(z.string()).optional(),
  rate: z.number().positive().nullable().optional(),
  overRate: z.enum(['throttle', '429']).optional(),
  retryAfterSec: z.number().int().min(0).optional(),
  serverErrorRate: z.number().min(0).max(1).optional(),
  hang: z.boolean().optional(),
  dlr: z.boolean().optional(),
  lookupDelayMs: z.number().int().min(0).optional(),
  latencyMs: latency.optional(),
  errorHttpStatus: z.number().int().min(200).max(599).optional(),
});
export type ModeRequest = z.infer<typeof modeRequestSchema>;
