/**
 * What the bench asks of the emulator process (bench/child/emulators.ts) over the IPC
 * channel. The emulators run in a process of their own so that their event loop is shared
 * neither with the service under test nor with the load generator.
 */

import type { PortalConnection } from '../../src/bitrix24/types.js';
import type {
  SampleCrmOptions,
  SampleExpectation,
} from '../../src/emulators/bitrix24/sampleCrm.js';

/** Addresses and credentials of the two emulators, sent once when the child is ready. */
export interface EmulatorInfo {
  mtsUrl: string;
  mtsClientId: string;
  mtsLogin: string;
  mtsPassword: string;
  b24Url: string;
  b24ClientId: string;
  b24ClientSecret: string;
  memberId: string;
  domain: string;
  applicationToken: string;
}

/** `auth[...]` fields as Bitrix24 posts them with a message that has an author. */
export type AuthFields = Record<string, string>;

export interface MtsSummary {
  /** Accepted sends (`/json2/simple`) since the last reset. */
  accepted: number;
  /** Every HTTP request since the last reset, whatever its answer. */
  requests: number;
  byKind: Record<string, number>;
  /** Most requests of any kind that arrived within one sliding 1 s window. */
  worstWindowAll: number;
  /** The same, sends only. */
  worstWindowSends: number;
}

export interface StatusSummary {
  /** Message ids registered under the tag. */
  tracked: number;
  /** Of those, how many show a final Bitrix24 status (delivered, undelivered, failed). */
  final: number;
  /** Latest status of each tracked message, counted. */
  byStatus: Record<string, number>;
  /** REST requests the portal received so far (a batch counts once), all tags together. */
  restRequests: number;
}

/** Command name → [argument, result]. */
export interface EmulatorCommands {
  /** Seeds the Bitrix24 emulator's CRM with messy phones; returns what a scan must count. */
  seedSampleCrm: [SampleCrmOptions, SampleExpectation];
  /** A connection to the Bitrix24 emulator's portal with fresh tokens. */
  b24Connection: [null, PortalConnection];
  /** REST requests the Bitrix24 emulator received so far (a batch counts once). */
  b24RestRequests: [null, number];
  /** POSTs ONAPPINSTALL to `${appUrl}/b24/install`; returns the HTTP status. */
  install: [{ appUrl: string }, number];
  /** The HANDLER URL the service registered for provider `mts_sms_by`. */
  handlerUrl: [null, string];
  /** A fresh token pair and the portal identity, as `auth[...]` of a handler POST. */
  authFields: [null, AuthFields];
  /** Makes the portal know these message ids (status updates for them succeed) and tracks them. */
  registerMessages: [{ tag: string; ids: string[] }, number];
  statusSummary: [{ tag: string }, StatusSummary];
  /** Forgets MTS traffic, then applies latency (ms) and DLR settings. */
  mtsReset: [{ latencyMs: number; dlrEnabled: boolean }, null];
  mtsSetLatency: [{ latencyMs: number }, null];
  mtsSummary: [null, MtsSummary];
  /** Arrival times (epoch ms) of accepted sends, in order. */
  mtsSendTimes: [null, number[]];
}

export type CommandName = keyof EmulatorCommands;

export interface CommandRequest<K extends CommandName = CommandName> {
  id: number;
  cmd: K;
  arg: EmulatorCommands[K][0];
}

export type CommandReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string };

export type ChildMessage = { type: 'ready'; info: EmulatorInfo } | CommandReply;
