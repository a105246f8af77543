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
  /** The Bitrix24 user the pair belongs to. */
  userId: number;
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
  /** access token → expiry and owner. */
  private readonly access = new Map<string, { expiresAt: number; userId: number }>();
  /** refresh token → owner. */
  private readonly refresh = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    public ttlSec: number,
  ) {}

  /** A new pair for `userId` (default 1, the portal's administrator). */
  issue(userId = 1): IssuedTokens {
    const accessToken = hex32();
    const refreshToken = hex32();
    const expiresAt = this.clock.now() + this.ttlSec * 1000;
    this.access.set(accessToken, { expiresAt, userId });
    this.refresh.set(refreshToken, userId);
    return { accessToken, refreshToken, expiresIn: this.ttlSec, expiresAt, userId };
  }

  check(accessToken: string): AccessCheck {
    const known = this.access.get(accessToken);
    if (known === undefined) return 'invalid';
    return this.clock.now() >= known.expiresAt ? 'expired' : 'ok';
  }

  /** The user an access token belongs to. */
  userOf(accessToken: string): number | undefined {
    return this.access.get(accessToken)?.userId;
  }

  /** Spends `refreshToken` and issues a new pair for the same user; `undefined` when unknown or spent. */
  rotate(refreshToken: string): IssuedTokens | undefined {
    const userId = this.refresh.get(refreshToken);
    if (userId === undefined) return undefined;
    this.refresh.delete(refreshToken);
    return this.issue(userId);
  }

  /** Every access token issued so far answers `expired_token` from now on. */
  expireAll(): void {
    const now = this.clock.now();
    for (const known of this.access.values()) known.expiresAt = now;
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
