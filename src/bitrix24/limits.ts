/**
 * Bitrix24's operating-time limit (`limits.md`): each method may use 480 s of server time
 * per 10 minutes on a portal; past that it answers 429 `OPERATION_TIME_LIMIT` until
 * `operating_reset_at` (epoch seconds, in every answer's `time`). Other methods go on.
 * This remembers, per portal and method, when a block lifts, so calls wait for it instead
 * of spending requests on answers known in advance.
 */
export class OperatingLimits {
  /** `portal\0method` → epoch ms the block lifts. */
  private readonly blocked = new Map<string, number>();
  /** `portal\0method` → the latest `operating_reset_at` seen, epoch ms. */
  private readonly resetAt = new Map<string, number>();

  private static key(portalId: string, method: string): string {
    return `${portalId}\u0000${method}`;
  }

  /** Records `time.operating_reset_at` of an answer (success or error), when present. */
  note(portalId: string, method: string, time: unknown): number | undefined {
    const at = resetAtMs(time);
    if (at !== undefined) this.resetAt.set(OperatingLimits.key(portalId, method), at);
    return at;
  }

  /**
   * Marks the method blocked after a 429: until the answer's `operating_reset_at`, else the
   * latest one seen for the method (if still ahead), else `fallbackMs` from now.
   */
  block(
    portalId: string,
    method: string,
    answerTime: unknown,
    now: number,
    fallbackMs: number,
  ): number {
    const key = OperatingLimits.key(portalId, method);
    const fromAnswer = this.note(portalId, method, answerTime);
    const known = this.resetAt.get(key);
    const until =
      fromAnswer !== undefined && fromAnswer > now
        ? fromAnswer
        : known !== undefined && known > now
          ? known
          : now + fallbackMs;
    this.blocked.set(key, until);
    return until;
  }

  /** When the method's block lifts, if it is blocked at `now`. */
  blockedUntil(portalId: string, method: string, now: number): number | undefined {
    const key = OperatingLimits.key(portalId, method);
    const until = this.blocked.get(key);
    if (until === undefined) return undefined;
    if (until <= now) {
      this.blocked.delete(key);
      return undefined;
    }
    return until;
  }
}

/** `time.operating_reset_at` (epoch seconds) as epoch ms. */
function resetAtMs(time: unknown): number | undefined {
  if (!time || typeof time !== 'object') return undefined;
  const v = Number((time as { operating_reset_at?: unknown }).operating_reset_at);
  return Number.isFinite(v) && v > 0 ? v * 1000 : undefined;
}

/** A portal whose REST API cannot be used at all, as `/readyz` shows it. */
export interface PortalAccessProblem {
  portalId: string;
  /** The portal's domain, when known. */
  domain?: string;
  /** `rest_unavailable`: the plan has no REST API (ACCESS_DENIED). */
  problem: 'rest_unavailable';
  /** What the administrator should do. */
  message: string;
  /** Epoch ms of the first refusal in this run. */
  since: number;
}
