/**
 * The store's one entry point. Code outside `src/store` imports storage only from here
 * (test/store/seam.test.ts holds it to that): named operations over a `Connection`, with
 * the SQL and the differences between SQLite and PostgreSQL behind them.
 */
import type { Updateable } from 'kysely';
import type { TokenStore } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import type { Connection } from './dialects/types.js';
import { getPortal, saveTokens, toConnection } from './portals.js';
import type { MessagesTable } from './schema.js';

// Connection: open, migrate, probe, transactions, group commit, what failure looks like.

export { type ConnectOptions, connect } from './connect.js';
export { inTransaction, ping } from './connection.js';
export type { Connection, DialectCaps } from './dialects/types.js';
export {
  DatabaseMissingError,
  DatabaseUnavailableError,
  isDatabaseUnavailable,
} from './errors.js';
export { type GroupCommit, makeGroupCommit } from './groupCommit.js';
export { migrate } from './migrations/index.js';

// Portals: installs, settings, keys; the Bitrix24 client's tokens (makeTokenStore, below).

export {
  getPortal,
  getPortalByDlrKey,
  getPortalByHandlerKey,
  type InstalledPortal,
  listPortals,
  markRegistered,
  markUninstalled,
  type Portal,
  type PortalFootprint,
  type PortalSettings,
  portalFootprint,
  portalSettings,
  removePortal,
  updatePortalSettings,
  upsertPortal,
} from './portals.js';

// Messages: intake, the moves of the state machine, queue figures, the admin listing.

export {
  type BacklogSummary,
  backlogSummary,
  type HeldCounts,
  type LaneCounts,
  type ScheduledCounts,
} from './backlog.js';
export {
  addEvent,
  addEvents,
  eventsFor,
  type MessageEvent,
  type MessageEventKind,
} from './events.js';
export {
  type ListedMessage,
  type MessageSearchFilter,
  searchMessages,
  searchMessagesQuery,
} from './messageList.js';
export {
  countByState,
  deferDueMarketing,
  finishClaim,
  getMessage,
  insertMessage,
  isClaimedBy,
  type Message,
  type NewMessage,
  queueDepth,
  releaseStale,
  transition,
} from './outbox.js';
export type { MessageState } from './schema.js';
export {
  deliveryStats,
  foldStatsDeltas,
  groupCells,
  type StatsCell,
  type StatsGrouping,
  type StatsRow,
  statsCells,
} from './stats.js';
/** Columns to change on a message (a `transition` patch). */
export type MessagePatch = Updateable<MessagesTable>;

// Sending: claims with their rate slots, on one contract's row.

export { type Claim, type ClaimPlan, claimForSending, hasDueWork, reserveSlots } from './claims.js';

// MTS contracts: settings, pauses, pace, alpha-name holds.

export {
  type AlphaHold,
  type Contract,
  type ContractFields,
  DEFAULT_CONTRACT,
  deleteContract,
  getContract,
  holdAlpha,
  listContracts,
  listHolds,
  moveWaitingMessages,
  pauseContract,
  portalContractId,
  releaseAlpha,
  releaseAlphaProbe,
  resumeContract,
  setPace,
  takeContractProbe,
  upsertContract,
} from './contracts.js';

// Delivery reports and status polls.

export {
  duePolls,
  findMessageForReport,
  reportsFor,
  saveReport,
  schedulePoll,
} from './reports.js';

// Statuses out: pending Bitrix24 pushes.

export {
  dropPush,
  markPushedMany,
  markTimelineNoted,
  type PendingPush,
  type PushBacklogRow,
  pendingPushes,
  portalsWithPushes,
  providerCodesInUse,
  pushBacklog,
  retryPush,
} from './pushes.js';

// Robot jobs.

export {
  dueRobotAnswers,
  dueRobotJobs,
  failRobotJob,
  insertRobotJob,
  type RobotAnswer,
  type RobotJob,
  takeRobotJob,
  updateRobotJob,
} from './robotJobs.js';

// Marketing consent: the registry of CRM answers, sync cursors, opt-outs.

export {
  ALL_PORTALS,
  addOptout,
  type ConsentRecordInput,
  type ConsentRecordRow,
  commitSyncStep,
  consentRowsForPhone,
  dropUnseenRecords,
  findOptout,
  forgetConsentRegistry,
  getConsentMiss,
  getSyncState,
  listOptouts,
  type NewOptout,
  type Optout,
  recordConsentMiss,
  recordSyncError,
  removeOptout,
  type SyncCursor,
  saveConsentRecords,
} from './consent.js';
export type { ConsentEntityType } from './schema.js';

// Campaigns: the audience, feeding the outbox, pause/cancel withdrawals, progress.

export {
  addCampaignFed,
  type Campaign,
  type CampaignProgress,
  type CampaignRecipient,
  campaignInFlight,
  campaignProgress,
  campaignRecipients,
  campaignSampleText,
  createCampaign,
  EXCLUSION_REASONS,
  type ExcludedCounts,
  getCampaign,
  listCampaigns,
  markRecipientFed,
  moveCampaign,
  type NewCampaign,
  type NewRecipient,
  pendingRecipients,
  runningCampaigns,
  withdrawCampaignMessages,
} from './campaigns.js';
export type { CampaignState, ExclusionReason } from './schema.js';

// Leases (singleton jobs, sender liveness) and the shared Bitrix24 REST budget.

export { acquireLease, currentLease, releaseLease } from './leases.js';
export { takeRestSlot } from './restBudget.js';

// Retention.

export { deleteFinalBefore, deleteIdleFlows, deleteOrphanReports } from './retention.js';

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

// The phone base's scans and their reports.

export {
  addPhoneScanChunk,
  finishPhoneScan,
  getPhoneScan,
  listPhoneScans,
  type PhoneScan,
  phoneScanChunks,
  startPhoneScan,
} from './phoneScans.js';
