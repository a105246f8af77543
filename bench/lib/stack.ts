/** Wiring a service child to the emulator process: its environment and the portal install. */
import type { EmulatorInfo } from '../child/emulatorProtocol.js';
import type { BenchDb } from './database.js';
import type { EmulatorProcess } from './emulatorProcess.js';

/**
 * The environment of a service on `port` using the emulators and `db` (SPEC §6 names only).
 * Production mode, real credentials (so not sandbox), marketing quiet hours off.
 */
export function serviceEnv(
  info: EmulatorInfo,
  db: BenchDb,
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: db.url,
    MTS_API_URL: info.mtsUrl,
    MTS_CLIENT_ID: info.mtsClientId,
    MTS_LOGIN: info.mtsLogin,
    MTS_PASSWORD: info.mtsPassword,
    MTS_SENDER: 'SANDBOX',
    MTS_SENDER_MARKETING: 'SANDBOXMKT',
    B24_CLIENT_ID: info.b24ClientId,
    B24_CLIENT_SECRET: info.b24ClientSecret,
    B24_OAUTH_URL: info.b24Url,
    MARKETING_QUIET_HOURS: '',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/**
 * Installs the emulated portal into the service at `appUrl` (which registers the provider);
 * returns the path of the HANDLER it registered (`/b24/sms/<key>`), valid on any instance
 * sharing the database.
 */
export async function installPortal(emu: EmulatorProcess, appUrl: string): Promise<string> {
  const status = await emu.call('install', { appUrl });
  if (status !== 200) throw new Error(`install into ${appUrl} answered HTTP ${status}`);
  return new URL(await emu.call('handlerUrl', null)).pathname;
}

/** Registers message ids with the portal in chunks (IPC messages stay small). */
export async function registerIds(emu: EmulatorProcess, tag: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 20_000)
    await emu.call('registerMessages', { tag, ids: ids.slice(i, i + 20_000) });
}
