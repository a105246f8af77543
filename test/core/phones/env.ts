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

/**
 * A small CRM with one value of every verdict: several values per record, a record without
 * phones, duplicates across types, a value that needs CSV quoting.
 */
export function seedCrafted(e: Bitrix24Emulator): void {
  e.addContact({
    PHONE: [
      { VALUE: '+375291234567', VALUE_TYPE: 'MOBILE' },
      { VALUE: '8 029 765-43-21', VALUE_TYPE: 'WORK' },
      { VALUE: '+375 17 222-33-44', VALUE_TYPE: 'WORK' },
    ],
  });
  e.addContact({ NAME: 'no phone' });
  e.addContact({
    PHONE: [
      { VALUE: '+79161234567', VALUE_TYPE: 'HOME' },
      { VALUE: 'call "Ivan", after 6', VALUE_TYPE: 'OTHER' },
      { VALUE: '80291234567', VALUE_TYPE: 'MOBILE' },
    ],
  });
  e.addLead({
    TITLE: 'lead',
    PHONE: [
      { VALUE: '375 29 765-43-21', VALUE_TYPE: 'MOBILE' },
      { VALUE: '(033) 111-22-33', VALUE_TYPE: 'MOBILE' },
    ],
  });
  e.addCompany({ TITLE: 'co', PHONE: [{ VALUE: '+375 17 200-00-00', VALUE_TYPE: 'WORK' }] });
}

/** What a scan of `seedCrafted` counts. */
export const CRAFTED_TALLY = {
  scanned: { contact: 3, lead: 1, company: 1 },
  values: 9,
  ok: 1,
  fixable: 2,
  landline: 2,
  foreign: 1,
  malformed: 1,
  duplicate: 2,
};
