import { type Connection, getPortal, listPortals, type Portal } from '../store/index.js';

/**
 * The DLR key of each portal, for the `callback_url` MTS reports to. Keys are per portal and
 * never change, so they are kept once known; another instance may have seen an install, so
 * a key not known yet is read from the database (and a portal still unknown is asked again).
 */
export function makeDlrKeys(deps: { conn: Connection; publicUrl: string }) {
  const keys = new Map<string, string>();

  /** The key for a portal's messages; CLI sends (no portal) use the first portal's, if any. */
  async function keyFor(portalId: string | null): Promise<string | undefined> {
    const cached = keys.get(portalId ?? '');
    if (cached) return cached;
    const p = portalId ? await getPortal(deps.conn, portalId) : (await listPortals(deps.conn))[0];
    if (p) keys.set(portalId ?? '', p.dlr_key);
    return p?.dlr_key;
  }

  return {
    keyFor,
    /** Where MTS reports a message of this portal; undefined without a key (no callback). */
    async callbackUrl(portalId: string | null): Promise<string | undefined> {
      const key = await keyFor(portalId);
      return key ? `${deps.publicUrl}/mts/dlr/${key}` : undefined;
    },
    /** An install or update: its key is known without a read. */
    remember(portal: Pick<Portal, 'id' | 'dlr_key'>): void {
      keys.set(portal.id, portal.dlr_key);
    },
  };
}

export type DlrKeys = ReturnType<typeof makeDlrKeys>;
