import type { PortalConnection, PortalTokens, TokenStore } from '../../src/bitrix24/types.js';

/** A TokenStore in memory that records every save, for client tests. */
export class MemoryTokenStore implements TokenStore {
  readonly saves: { portalId: string; tokens: PortalTokens }[] = [];
  private readonly rows = new Map<string, PortalConnection>();

  put(conn: PortalConnection): void {
    this.rows.set(conn.portalId, { ...conn });
  }

  get(portalId: string): PortalConnection | undefined {
    const row = this.rows.get(portalId);
    return row ? { ...row } : undefined;
  }

  async loadConnection(portalId: string): Promise<PortalConnection | undefined> {
    return this.get(portalId);
  }

  async saveTokens(portalId: string, tokens: PortalTokens): Promise<void> {
    const row = this.rows.get(portalId);
    if (!row) throw new Error(`no portal ${portalId}`);
    this.rows.set(portalId, { ...row, ...tokens });
    this.saves.push({ portalId, tokens: { ...tokens } });
  }
}
