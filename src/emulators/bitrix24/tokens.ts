import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.js';

/** A token pair as the OAuth server hands it out. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds the access token lives. */
  expiresIn: number;
  /** Epoch ms. */
  expiresAt: number;
}

export type AccessCheck = 'ok' | 'expired' | 'invalid';

/** 32 lowercase hex characters, the shape of Bitrix24 tokens and ids. */
export const hex32 = () => randomBytes(16).toString('hex');

/**
 * The emulator's OAuth state. Access tokens live `ttlSec`; a refresh token works once and
 * each refresh issues a new pair (`settings/oauth/auto-renewal.md`). Access tokens already
 * issued stay valid until they expire, even after a refresh.
 */
export class TokenRegistry {
  private readonly access = new Map<string, number>();
  private readonly refresh = new Set<string>();

  constructor(
    private readonly clock: Clock,
    public ttlSec: number,
  ) {}

  issue(): IssuedTokens {
    const accessToken = hex32();
    const refreshToken = hex32();
    const expiresAt = this.clock.now() + this.ttlSec * 1000;
    this.access.set(accessToken, expiresAt);
    this.refresh.add(refreshToken);
    return { accessToken, refreshToken, expiresIn: this.ttlSec, expiresAt };
  }

  check(accessToken: string): AccessCheck {
    const expiresAt = this.access.get(accessToken);
    if (expiresAt === undefined) return 'invalid';
    return this.clock.now() >= expiresAt ? 'expired' : 'ok';
  }

  /** Spends `refreshToken` and issues a new pair; `undefined` when it is unknown or spent. */
  rotate(refreshToken: string): IssuedTokens | undefined {
    if (!this.refresh.delete(refreshToken)) return undefined;
    return this.issue();
  }

  /** Every access token issued so far answers `expired_token` from now on. */
  expireAll(): void {
    const now = this.clock.now();
    for (const token of this.access.keys()) this.access.set(token, now);
  }

  /** Every refresh token issued so far answers `invalid_grant` (e.g. the app was reinstalled elsewhere). */
  revokeRefreshTokens(): void {
    this.refresh.clear();
  }

  /** Forgets everything (uninstall). */
  revokeAll(): void {
    this.access.clear();
    this.refresh.clear();
  }
}
