import { type Bitrix24ClientOptions, createBitrix24Client } from '../../../src/bitrix24/client.js';
import {
  type Bitrix24Emulator,
  type Bitrix24EmulatorOptions,
  startBitrix24Emulator,
} from '../../../src/emulators/bitrix24/index.js';
import { MemoryTokenStore } from '../../bitrix24/memoryTokenStore.js';

/** The Bitrix24 emulator and our REST client on its portal, over loopback HTTP. */
export async function startPhonesEnv(
  emuOpts: Bitrix24EmulatorOptions = {},
  clientOpts: Partial<Bitrix24ClientOptions> = {},
) {
  const emu: Bitrix24Emulator = await startBitrix24Emulator(emuOpts);
  const tokens = new MemoryTokenStore();
  tokens.put(emu.connection());
  const client = createBitrix24Client({
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    oauthServers: [emu.url],
    tokens,
    ...clientOpts,
  });
  return {
    emu,
    client,
    portalId: emu.memberId,
    async close() {
      client.close();
      await emu.close();
    },
  };
}
