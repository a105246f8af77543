/**
 * npm run bench:phones — `phones scan` of 100,000 contacts through a 2 req/s (burst 50)
 * bucket, the Bitrix24 emulator in a process of its own. Prints REST requests, REST time
 * (wall time spent waiting on Bitrix24: the limiter plus the answers), our own CPU (this
 * process: paging, JSON, verdicts), the total, and PASS/FAIL against issue 10's target:
 * ≤ 60 s of REST time plus our CPU, about 40 batched requests (100,000 ÷ 2,500).
 * Options: --contacts 100000  --seed 1
 */
import { parseArgs } from 'node:util';
import { createBitrix24Client } from '../src/bitrix24/client.js';
import type { BatchCommand, Bitrix24Api, PortalConnection } from '../src/bitrix24/types.js';
import { scanPhones } from '../src/core/phones/scan.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
  },
});
const CONTACTS = Number(args.contacts);
const TARGET_S = 60;

/** The client with every await on Bitrix24 timed (calls never overlap in a scan). */
function timed(api: Bitrix24Api): { api: Bitrix24Api; waitedMs: () => number } {
  let waited = 0;
  const time = async <T>(p: Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await p;
    } finally {
      waited += performance.now() - t0;
    }
  };
  return {
    api: {
      call: (portalId, method, params) => time(api.call(portalId, method, params)),
      batch: (portalId, commands: Record<string, BatchCommand>) =>
        time(api.batch(portalId, commands)),
    },
    waitedMs: () => waited,
  };
}

async function main() {
  const emu = await startEmulatorProcess();
  try {
    process.stderr.write(`seeding ${CONTACTS} contacts with messy phones…\n`);
    const expected = await emu.call('seedSampleCrm', {
      contacts: CONTACTS,
      seed: Number(args.seed),
    });
    let conn: PortalConnection = await emu.call('b24Connection', null);
    const client = createBitrix24Client({
      clientId: emu.info.b24ClientId,
      clientSecret: emu.info.b24ClientSecret,
      oauthServers: [emu.info.b24Url],
      tokens: {
        loadConnection: async () => conn,
        saveTokens: async (_id, t) => {
          conn = { ...conn, ...t };
        },
      },
      rate: 2,
      burst: 50,
    });
    const { api, waitedMs } = timed(client);
    const before = await emu.call('b24RestRequests', null);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const tally = await scanPhones({
      api,
      portalId: conn.portalId,
      entities: ['contact'],
    });
    const totalMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const requests = client.restRequests(conn.portalId);
    const portalSaw = (await emu.call('b24RestRequests', null)) - before;
    client.close();

    const exact =
      tally.values === expected.values &&
      tally.ok === expected.ok &&
      tally.fixable === expected.fixable &&
      tally.duplicate === expected.duplicate &&
      tally.scanned.contact === CONTACTS;
    const restS = waitedMs() / 1000;
    const cpuS = cpuMs / 1000;
    const bound = 1 + Math.floor(CONTACTS / 2500) + 1;
    const pass = exact && restS + cpuS <= TARGET_S && requests <= bound;
    const lines = [
      `phones scan: ${CONTACTS} contacts, ${tally.values} PHONE values, 2 req/s bucket (burst 50)`,
      `  counts exact:        ${exact ? 'yes' : `NO (got ${JSON.stringify(tally)})`}`,
      `  REST requests:       ${requests} (portal saw ${portalSaw}; batched bound 1 + ${CONTACTS}/2500 + 1 = ${bound})`,
      `  REST time:           ${restS.toFixed(2)} s (waiting on Bitrix24: limiter + answers)`,
      `  our CPU:             ${cpuS.toFixed(2)} s (this process: paging, JSON, verdicts)`,
      `  total (wall):        ${(totalMs / 1000).toFixed(2)} s`,
      `  target:              REST time + CPU ≤ ${TARGET_S} s and ≤ ${bound} requests → ${(restS + cpuS).toFixed(2)} s, ${requests} requests: ${pass ? 'PASS' : 'FAIL'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (!pass) process.exitCode = 1;
  } finally {
    await emu.close();
  }
}

await main();
