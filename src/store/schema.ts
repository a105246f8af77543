import type { Generated } from 'kysely';

/** Every timestamp is epoch milliseconds (BIGINT on PostgreSQL, INTEGER on SQLite). */
export interface PortalsTable {
  /** Bitrix24 member_id. */
  id: string;
  domain: string;
  client_endpoint: string;
  server_endpoint: string;
  access_token: string;
  refresh_token: string;
  expires_at: number;
  application_token: string | null;
  /** Secret in the HANDLER and robot URLs (256 bits, base64url). */
  handler_key: string;
  /** Secret in the MTS callback_url (256 bits, base64url). */
  dlr_key: string;
  /** JSON: PortalSettings. */
  settings: string;
  status: 'active' | 'uninstalled';
  registered_at: number | null;
  installed_at: number;
  updated_at: number;
}

export type MessageState =
  | 'queued'
  | 'held'
  | 'sending'
  | 'ACCEPTD'
  | 'DELIVRD'
  | 'EXPIRED'
  | 'UNDELIV'
  | 'REJECTD'
  | 'UNKNOWN'
  | 'failed';

/** The states of a message not sent yet: waiting in the outbox, held, or being sent. */
export const WAITING_STATES = [
  'queued',
  'held',
  'sending',
] as const satisfies readonly MessageState[];

export interface MessagesTable {
  /** Our id, sent to MTS as extra_id. */
  id: string;
  portal_id: string | null;
  /** Bitrix24's message_id (md5 hex) — unique per portal; null for CLI and robot sends. */
  b24_message_id: string | null;
  /** crm | bizproc | sender | robot | cli */
  source: string;
  kind: 'transactional' | 'marketing';
  phone_raw: string;
  phone: string | null;
  text: string;
  alpha_name: string;
  /** JSON array of {OWNER_TYPE_ID, OWNER_ID} from a card send. */
  bindings: string | null;
  state: MessageState;
  fail_reason: string | null;
  attempts: number;
  run_at: number;
  /** When the message first became due (send time / end of quiet hours); the retry clock starts here. */
  due_at: number | null;
  locked_by: string | null;
  locked_at: number | null;
  /** 1 when an earlier attempt may have reached MTS: look it up by extra_id before resending. */
  unsure: number;
  last_error: string | null;
  mts_message_id: string | null;
  mts_status: string | null;
  mts_substatus: number | null;
  mts_hyber_status: number | null;
  total_parts: number | null;
  delivered_parts: number | null;
  accepted_at: number | null;
  final_at: number | null;
  next_poll_at: number | null;
  polls: number;
  /** The Bitrix24 status this message should show (queued|sent|delivered|undelivered|failed). */
  b24_status: string;
  b24_pushed_status: string | null;
  /** 1 while b24_status has not reached Bitrix24 yet. */
  push_pending: number;
  push_attempts: number;
  push_run_at: number;
  push_error: string | null;
  /** 1 once a CRM timeline note about this message's failure was added. */
  timeline_noted: Generated<number>;
  /** Lane: 0 transactional (card, robot, test), 1 marketing and campaigns. Lower goes first. */
  priority: Generated<number>;
  /** The MTS contract (account) this message goes out on. */
  contract_id: Generated<string>;
  /** Fair order inside a lane: the flow's virtual time (see store/flows.ts). */
  vt: Generated<number>;
  campaign_id: string | null;
  /** Why a `held` message waits (e.g. its alpha name is refused by MTS). */
  hold_reason: string | null;
  /** When the last send attempt started: the lookup grace counts from here. */
  attempted_at: number | null;
  /** The Bitrix24 provider CODE it came through when not our default one (a chosen Sender ID). */
  provider_code: string | null;
  /** The X-Request-Id of the request that brought it (its log lines carry the same). */
  request_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface DeliveryReportsTable {
  id: Generated<number>;
  message_id: string | null;
  mts_message_id: string | null;
  /** dlr | poll */
  source: string;
  body: string;
  received_at: number;
}

/** One step of a message's history (migrations/0009_history.ts, store/events.ts). */
export interface MessageEventsTable {
  id: Generated<number>;
  message_id: string;
  at: number;
  /** accept | requeue | fail | hold | push | push-refused */
  kind: string;
  /** JSON: the step's details (the MTS answer, the error, the status pushed…). */
  detail: string;
}

/** One row per limiter: the lock that serializes its window decisions. */
export interface RateLimitsTable {
  key: string;
  /** Unused since 0002 (was the next start slot); kept for the row lock. */
  next_at: number;
}

/** Start times of recent rate-limited requests (a sliding window shared by all instances). */
export interface RateEventsTable {
  key: string;
  /** Epoch microseconds. */
  at: number;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

/** A robot call from Bitrix24, kept until its SMS is queued and the answer is sent back. */
export interface RobotJobsTable {
  id: string;
  portal_id: string;
  /** For `bizproc.event.send`; unique, so a repeated call is one job. */
  event_token: string;
  code: string;
  /** JSON array, e.g. ["crm","CCrmDocumentDeal","DEAL_5"]. */
  document_id: string;
  /** JSON object of the robot's evaluated properties. */
  properties: string;
  /** pending → queued (message created) | failed (answered with an error) */
  state: 'pending' | 'queued' | 'failed';
  attempts: number;
  run_at: number;
  last_error: string | null;
  message_id: string | null;
  /** 0 nothing to send yet, 1 answer to send, 2 answer sent, 3 answer given up */
  event_state: number;
  event_attempts: number;
  event_run_at: number;
  /** JSON of the RETURN_VALUES sent (or to send). */
  return_values: string | null;
  /** X-Request-Id of the robot call (migrations/0015); its message takes it. */
  request_id: string | null;
  created_at: number;
  updated_at: number;
}

/** An MTS account: credentials, alpha names, contracted rate and the live sending state. */
export interface ContractsTable {
  /** `default` (the environment's MTS settings) or `portal:<member_id>`. */
  id: string;
  label: string;
  /** Null: MTS_API_URL. */
  api_url: string | null;
  client_id: string | null;
  login: string | null;
  /** AES-256-GCM with a key derived from SECRET_KEY (core/secrets.ts). */
  password_enc: string | null;
  token_enc: string | null;
  sender: string | null;
  sender_marketing: string | null;
  /** Contracted MTS requests per second. */
  rate: number;
  /** Adaptive fraction of `rate` (0.05–1): lowered on "slow down", restored gradually. */
  pace: number;
  /** When `pace` was last set (restoring counts from here). */
  pace_at: number;
  /** Epoch µs of the next free rate slot: slots are handed out in order to every instance. */
  next_slot_us: number;
  /** While set the account is paused; at this time one probe message may go. */
  paused_until: number | null;
  pause_reason: string | null;
  pause_code: string | null;
  paused_since: number | null;
  /** Current probe interval (grows while probes fail). */
  probe_interval_ms: number;
  created_at: number;
  updated_at: number;
}

/** An alpha name MTS refused (10262) on one contract: its messages wait as `held`. */
export interface AlphaHoldsTable {
  contract_id: string;
  alpha_name: string;
  reason: string;
  code: string | null;
  since: number;
  /** When one held message may be sent as a probe. */
  probe_at: number;
  interval_ms: number;
}

/** Last virtual time handed out per flow (contract, lane, portal, campaign). */
export interface FlowsTable {
  key: string;
  last_vt: number;
}

/** A portal's Bitrix24 leaky bucket, shared by every instance (store/restBudget.ts). */
export interface RestBudgetsTable {
  portal_id: string;
  /** Fill level at `at`; above the burst it counts requests promised a later slot. */
  level: number;
  at: number;
}

export type CampaignState = 'draft' | 'running' | 'paused' | 'done' | 'cancelled';

/** Why a recipient gets no SMS (SPEC §6 `excluded`). */
export type ExclusionReason =
  | 'no_consent'
  | 'opted_out'
  | 'invalid_phone'
  | 'duplicate'
  | 'template_error';

/** A mass send run by this service (migrations/0008_campaigns.ts). */
export interface CampaignsTable {
  id: Generated<number>;
  portal_id: string;
  name: string;
  /** The SMS text with `#PLACEHOLDER#`s. */
  template: string;
  /** `crm:contact`, `crm:lead` or `csv`. */
  source: string;
  /** The CRM filter (JSON) or the CSV file's name. */
  source_detail: string | null;
  alpha_name: string;
  /** Not before (epoch ms); null: at start. */
  send_at: number | null;
  /** 1: each SMS is logged on its CRM record's timeline. */
  timeline: number;
  state: CampaignState;
  /** Eligible recipients. */
  recipients: number;
  /** JSON `{no_consent, opted_out, invalid_phone, duplicate, template_error}`. */
  excluded: string;
  /** SMS parts over all eligible recipients. */
  parts: number;
  cost: number | null;
  /** Estimated sending time at the contract's rate, quiet hours included. */
  duration_s: number;
  /** Recipients moved into the outbox so far. */
  fed: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/**
 * One recipient of a campaign, eligible or not: `pending` (not in the outbox yet) → `fed`
 * (its message exists: `message_id`), `excluded` (with the reason) or `cancelled`.
 */
export interface CampaignRecipientsTable {
  campaign_id: number;
  /** Order of the audience (CRM ID order, or the CSV's line order). */
  seq: number;
  /** Normalized; null when invalid. */
  phone: string | null;
  phone_raw: string | null;
  entity_type: string | null;
  entity_id: number | null;
  /** The rendered SMS; null when excluded before rendering or on a template error. */
  text: string | null;
  parts: number;
  state: 'pending' | 'fed' | 'excluded' | 'cancelled';
  excluded: ExclusionReason | null;
  /** The reason in words (which placeholder is empty, which record said no…). */
  detail: string | null;
  message_id: string | null;
}

/** Delivery figures of one key (migrations/0010_stats.ts): one row per key, folded from deltas. */
export interface StatsDaysTable {
  /** Minsk day number: days since 1970-01-01 of the message's creation in Europe/Minsk. */
  day: number;
  /** '' for messages without a portal (CLI, test SMS). */
  portal_id: string;
  alpha_name: string;
  /** card | robot | marketing | campaign | test */
  type: string;
  /** '' for messages of no campaign. */
  campaign_id: string;
  total: number;
  submitted: number;
  delivered: number;
  undelivered: number;
  failed: number;
}

/** One change of one message's counters, written by the trigger on `messages`, not folded yet. */
export interface StatsDeltasTable extends StatsDaysTable {
  id: Generated<number>;
}

/** A `phones scan` of one portal (migrations/0013_phone_scans.ts). */
export interface PhoneScansTable {
  id: Generated<number>;
  portal_id: string;
  /** running | done | failed */
  state: string;
  started_at: number;
  finished_at: number | null;
  /** JSON ScanTally (core/phones/verdict.ts) once done. */
  tally: string | null;
  error: string | null;
}

/** A piece of a scan's CSV report (rows only, in `seq` order). */
export interface PhoneScanChunksTable {
  scan_id: number;
  seq: number;
  text: string;
}

export interface Database {
  campaigns: CampaignsTable;
  campaign_recipients: CampaignRecipientsTable;
  contracts: ContractsTable;
  rest_budgets: RestBudgetsTable;
  alpha_holds: AlphaHoldsTable;
  flows: FlowsTable;
  portals: PortalsTable;
  messages: MessagesTable;
  delivery_reports: DeliveryReportsTable;
  message_events: MessageEventsTable;
  stats_days: StatsDaysTable;
  phone_scans: PhoneScansTable;
  phone_scan_chunks: PhoneScanChunksTable;
  stats_deltas: StatsDeltasTable;
  rate_limits: RateLimitsTable;
  rate_events: RateEventsTable;
  leases: LeasesTable;
  robot_jobs: RobotJobsTable;
  // consent (migrations/0003_consent.ts)
  consent_records: ConsentRecordsTable;
  consent_misses: ConsentMissesTable;
  consent_sync: ConsentSyncTable;
  optouts: OptoutsTable;
}

/** CRM record types the consent registry mirrors. */
export type ConsentEntityType = 'contact' | 'lead';

/** One phone of one CRM record and what its consent field said (migrations/0003_consent.ts). */
export interface ConsentRecordsTable {
  portal_id: string;
  entity_type: ConsentEntityType;
  /** The record's ID in Bitrix24. */
  entity_id: number;
  /** Normalized `+375XXXXXXXXX`. */
  phone: string;
  /** 1 = yes, 0 = no, null = the field is empty on this record. */
  consent: number | null;
  /** The record's DATE_MODIFY, when known. */
  modified_at: number | null;
  /** When we last read this record. */
  synced_at: number;
}

/** A number a live CRM lookup found on no record (so the next check costs no REST call). */
export interface ConsentMissesTable {
  portal_id: string;
  phone: string;
  checked_at: number;
}

/** Sync cursor per portal and CRM type. */
export interface ConsentSyncTable {
  portal_id: string;
  entity_type: ConsentEntityType;
  /** Lower DATE_MODIFY bound of incremental passes; null until a full pass has finished. */
  since: number | null;
  /** Start of the pass in progress; null between passes. */
  pass_started_at: number | null;
  /** 1 when the pass in progress reads every record (no DATE_MODIFY bound). */
  pass_full: number;
  /** Highest ID read in the pass in progress (`>ID` paging). */
  last_id: number;
  /** Highest DATE_MODIFY read in the pass in progress. */
  pass_max_modified: number | null;
  full_synced_at: number | null;
  last_synced_at: number | null;
  last_error: string | null;
  updated_at: number;
}

/** Numbers that asked to stop marketing SMS. */
export interface OptoutsTable {
  /** Normalized `+375XXXXXXXXX`. */
  phone: string;
  /** `*` for every portal, otherwise a portal id. */
  scope: string;
  reason: string | null;
  /** cli | admin | reply */
  source: string;
  created_at: number;
}
