import type { TokenStore } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import type { Connection } from './dialects/types.js';
import { getPortal, saveTokens, toConnection } from './portals.js';

export { type ConnectOptions, connect } from './connect.js';
export type { Connection, DialectCaps } from './dialects/types.js';
export {
  DatabaseMissingError,
  DatabaseUnavailableError,
  isDatabaseUnavailable,
} from './errors.js';
export { migrate } from './migrations/index.js';

/** The Bitrix24 client's view of the portals table. */
export function makeTokenStore(conn: Connection, clock: Clock): TokenStore {
  return {
    async loadConnection(portalId) {
      const p = await getPortal(conn, portalId);
      return p ? toConnection(p) : undefined;
    },
    saveTokens: (portalId, tokens) => saveTokens(conn, portalId, tokens, clock.now()),
  };
}
