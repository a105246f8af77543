import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from './config.js';
import type { Endpoints } from './service.js';

/**
 * Where a running sandbox (`serve` without credentials) says where its emulators are, so that
 * the other commands (`phones`, `campaign`) work on the sandbox portal: next to the SQLite
 * database, else in ./data.
 */
export function sandboxFilePath(config: Pick<Config, 'DATABASE_URL'>): string {
  const url = config.DATABASE_URL;
  const dir =
    url.startsWith('sqlite:') && url !== 'sqlite::memory:' ? dirname(url.slice(7)) : 'data';
  return join(dir, 'sandbox.json');
}

export function writeSandboxFile(config: Pick<Config, 'DATABASE_URL'>, endpoints: Endpoints): void {
  const path = sandboxFilePath(config);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ pid: process.pid, endpoints }, null, 2)}\n`, {
    mode: 0o600,
  });
}

export function removeSandboxFile(config: Pick<Config, 'DATABASE_URL'>): void {
  rmSync(sandboxFilePath(config), { force: true });
}

/**
 * The emulators of the sandbox `serve` running on this database, or null when none runs (no
 * file, or its process is gone).
 */
export function runningSandbox(config: Pick<Config, 'DATABASE_URL'>): Endpoints | null {
  let saved: { pid?: unknown; endpoints?: Endpoints };
  try {
    saved = JSON.parse(readFileSync(sandboxFilePath(config), 'utf8'));
  } catch {
    return null;
  }
  if (typeof saved.pid !== 'number' || !saved.endpoints) return null;
  try {
    process.kill(saved.pid, 0);
  } catch {
    return null;
  }
  return saved.endpoints;
}

/** The one-line answer of a command that needs the sandbox portal when no sandbox runs. */
export const NO_SANDBOX =
  'sandbox mode: the emulated Bitrix24 portal and MTS live inside the running service — start it first (`npm start` in another terminal), or configure a real portal and MTS account (B24_CLIENT_ID/B24_CLIENT_SECRET, MTS_CLIENT_ID…; README, "Going live")';
