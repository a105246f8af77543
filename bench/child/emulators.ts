/**
 * The MTS and Bitrix24 emulators in a process of their own, driven by the bench over IPC
 * (see emulatorProtocol.ts). Exits when the bench disconnects, whatever the reason.
 */
import { setMaxListeners } from 'node:events';
import { startBitrix24Emulator } from '../../src/emulators/bitrix24/index.js';
import { seedSampleCrm } from '../../src/emulators/bitrix24/sampleCrm.js';
import { startMtsEmulator } from '../../src/emulators/mts/index.js';
import type {
  CommandReply,
  CommandRequest,
  EmulatorCommands,
  EmulatorInfo,
} from './emulatorProtocol.js';

const SENDER_CODE = 'mts_sms_by';
const FINAL = new Set(['delivered', 'undelivered', 'failed']);

// A slow MTS holds many latency sleeps on one abort signal at once: not a leak.
setMaxListeners(0);
const mts = await startMtsEmulator({ latencyMs: 50 });
const b24 = await startBitrix24Emulator();

/** Latest Bitrix24 status per message id, folded in from the emulator's log as it grows. */
const latest = new Map<string, string>();
let folded = 0;
const tracked = new Map<string, Set<string>>();

function foldStatuses(): void {
  const updates = b24.statusUpdates;
  for (; folded < updates.length; folded++) {
    const u = updates[folded];
    if (u) latest.set(u.messageId, u.status);
  }
}

type Handlers = {
  [K in keyof EmulatorCommands]: (
    arg: EmulatorCommands[K][0],
  ) => EmulatorCommands[K][1] | Promise<EmulatorCommands[K][1]>;
};

const handlers: Handlers = {
  seedSampleCrm: (opts) => seedSampleCrm(b24, opts),
  b24Connection: () => b24.connection(),
  b24RestRequests: () => b24.restRequests.total,
  install: ({ appUrl }) => b24.install(appUrl),
  handlerUrl: () => {
    const s = b24.senders.find((x) => x.CODE === SENDER_CODE);
    if (!s) throw new Error(`no provider ${SENDER_CODE} registered in the Bitrix24 emulator`);
    return s.HANDLER;
  },
  authFields: () => {
    const pair = b24.issueTokens();
    return {
      access_token: pair.accessToken,
      expires: String(Math.floor(pair.expiresAt / 1000)),
      expires_in: String(pair.expiresIn),
      scope: 'crm,messageservice,bizproc,placement',
      domain: b24.domain,
      server_endpoint: b24.restBase,
      status: 'L',
      client_endpoint: b24.restBase,
      member_id: b24.memberId,
      user_id: '1',
      refresh_token: pair.refreshToken,
      application_token: b24.applicationToken,
    };
  },
  registerMessages: ({ tag, ids }) => {
    const set = tracked.get(tag) ?? new Set<string>();
    tracked.set(tag, set);
    for (const id of ids) {
      b24.registerMessage(SENDER_CODE, id);
      set.add(id);
    }
    return set.size;
  },
  statusSummary: ({ tag }) => {
    foldStatuses();
    const set = tracked.get(tag) ?? new Set<string>();
    const byStatus: Record<string, number> = {};
    let final = 0;
    for (const id of set) {
      const s = latest.get(id) ?? '(none)';
      byStatus[s] = (byStatus[s] ?? 0) + 1;
      if (FINAL.has(s)) final++;
    }
    return { tracked: set.size, final, byStatus, restRequests: b24.restRequests.total };
  },
  mtsReset: ({ latencyMs, dlrEnabled }) => {
    mts.reset();
    mts.setLatency(latencyMs);
    mts.setDlrEnabled(dlrEnabled);
    return null;
  },
  mtsSetLatency: ({ latencyMs }) => {
    mts.setLatency(latencyMs);
    return null;
  },
  mtsSummary: () => {
    const byKind: Record<string, number> = {};
    for (const r of mts.requests) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    return {
      accepted: mts.sent.length,
      requests: mts.requests.length,
      byKind,
      worstWindowAll: mts.maxRequestsInWindow(1000),
      worstWindowSends: mts.maxRequestsInWindow(1000, (r) => r.kind === 'send'),
    };
  },
  mtsSendTimes: () => mts.sent.map((s) => s.receivedAt),
};

async function handle(req: CommandRequest): Promise<CommandReply> {
  try {
    const fn = handlers[req.cmd] as (arg: unknown) => unknown;
    return { id: req.id, ok: true, result: await fn(req.arg) };
  } catch (err) {
    return { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  // Bounded: a stuck close must not keep an orphan alive.
  setTimeout(() => process.exit(0), 5000).unref();
  await Promise.allSettled([mts.close(), b24.close()]);
  process.exit(0);
}

process.on('message', (msg: CommandRequest) => {
  void handle(msg).then((reply) => process.send?.(reply));
});
process.on('disconnect', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

const info: EmulatorInfo = {
  mtsUrl: mts.url,
  mtsClientId: mts.clientId,
  mtsLogin: mts.login,
  mtsPassword: mts.password,
  b24Url: b24.url,
  b24ClientId: b24.clientId,
  b24ClientSecret: b24.clientSecret,
  memberId: b24.memberId,
  domain: b24.domain,
  applicationToken: b24.applicationToken,
};
process.send?.({ type: 'ready', info });
