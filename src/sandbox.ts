import type { Logger } from 'pino';
import type { Config } from './config.js';
import { type Bitrix24Emulator, startBitrix24Emulator } from './emulators/bitrix24/index.js';
import { type MtsEmulator, startMtsEmulator } from './emulators/mts/index.js';
import type { Endpoints } from './service.js';

export interface Sandbox {
  mts: MtsEmulator;
  b24: Bitrix24Emulator;
  endpoints: Endpoints;
  close(): Promise<void>;
}

/** The fixed identity of the sandbox portal, so a restart re-installs the same portal. */
export const SANDBOX_MEMBER_ID = 'sandbox0000000000000000000000000';
/** Fixed too: the sandbox portal's restart is a reinstall with the same application token. */
const SANDBOX_APPLICATION_TOKEN = 'sandbox-application-token-0000000';

/**
 * Sandbox mode: the built-in emulators of MTS and Bitrix24 stand in for the real services,
 * on loopback ports of their own. Nothing leaves the machine.
 */
export async function startSandbox(config: Config, logger: Logger): Promise<Sandbox> {
  const mts = await startMtsEmulator({
    alphaNames: [config.mtsSender, config.mtsSenderMarketing],
    logger: logger.child({ emulator: 'mts' }, { level: 'warn' }),
  });
  const b24 = await startBitrix24Emulator({
    memberId: SANDBOX_MEMBER_ID,
    applicationToken: SANDBOX_APPLICATION_TOKEN,
    domain: 'sandbox.bitrix24.by',
    logger: logger.child({ emulator: 'bitrix24' }, { level: 'warn' }),
  });
  return {
    mts,
    b24,
    endpoints: {
      mts: { baseUrl: mts.url, clientId: mts.clientId, login: mts.login, password: mts.password },
      b24: { clientId: b24.clientId, clientSecret: b24.clientSecret, oauthUrl: b24.url },
    },
    async close() {
      await Promise.allSettled([mts.close(), b24.close()]);
    },
  };
}
