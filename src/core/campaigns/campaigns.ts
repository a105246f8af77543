import type { Logger } from 'pino';
import type { Bitrix24Api } from '../../bitrix24/types.js';
import type { Clock } from '../../clock.js';
import { syncConsent } from '../../consent/index.js';
import { normalizePhone } from '../../domain/phone.js';
import { nextAllowedTime, type QuietWindow } from '../../domain/quietHours.js';
import {
  type Campaign,
  type CampaignState,
  type Connection,
  campaignProgress,
  campaignSampleText,
  createCampaign,
  type ExcludedCounts,
  getCampaign,
  getPortal,
  inTransaction,
  listCampaigns,
  moveCampaign,
  portalSettings,
  withdrawCampaignMessages,
} from '../../store/index.js';
import { intakeSms } from '../intake.js';
import type { SenderFor } from '../senderChoice.js';
import { type AudienceSource, buildAudience } from './audience.js';

export { AudienceError, type AudienceSource } from './audience.js';

export interface CampaignDeps {
  conn: Connection;
  api: Bitrix24Api;
  clock: Clock;
  logger: Logger;
  senderFor: SenderFor;
  /** CONSENT_FIELD. */
  consentField: string;
  /** SMS_MAX_PARTS. */
  maxParts: number;
  /** PRICE_PER_PART (BYN); undefined: no cost in estimates. */
  pricePerPart: number | undefined;
}

/** A usage problem with a campaign command (unknown id, a move not allowed from its state). */
export class CampaignError extends Error {}

export interface CreateInput {
  portalId: string;
  name: string;
  template: string;
  source: AudienceSource;
  /** Alpha name; default: the portal's marketing one. */
  sender?: string;
  /** Not before this time (epoch ms). */
  sendAt?: number;
  /** Log each SMS on its CRM record's timeline (default true). */
  timeline?: boolean;
  onProgress?: (read: number) => void;
}

/** `campaign create --json` (SPEC §6). */
export interface CreateResult {
  id: number;
  recipients: number;
  excluded: ExcludedCounts;
  parts: number;
  cost: number | null;
  duration_s: number;
}

/**
 * Seconds to send `n` messages at `rate` per second from `start`, waiting out quiet hours
 * (minute steps: precise enough for an estimate, cheap for a million recipients).
 */
export function estimateDuration(
  n: number,
  rate: number,
  start: number,
  quiet: QuietWindow | null,
): number {
  let t = start;
  let left = n;
  for (let guard = 0; left > 0 && guard < 10_000_000; guard++) {
    const allowed = nextAllowedTime(t, quiet);
    if (allowed > t) {
      t = allowed;
      continue;
    }
    const batch = Math.min(left, rate * 60);
    t += (batch / rate) * 1000;
    left -= batch;
  }
  return Math.ceil((t - start) / 1000);
}

/** `campaign status --json` (SPEC §6), plus the exclusions by reason and the cancelled. */
export interface CampaignStatus {
  id: number;
  name: string;
  state: CampaignState;
  recipients: number;
  /** Not sent yet: not in the outbox, or waiting there. */
  queued: number;
  /** Accepted by MTS (delivered and undelivered included). */
  sent: number;
  delivered: number;
  undelivered: number;
  failed: number;
  excluded: number;
  excluded_by: ExcludedCounts;
  cancelled: number;
}

export function makeCampaigns(deps: CampaignDeps) {
  const { conn, clock } = deps;

  async function load(id: number): Promise<Campaign> {
    const c = await getCampaign(conn, id);
    if (!c) throw new CampaignError(`no campaign ${id} (see \`campaign list\`)`);
    return c;
  }

  async function move(
    id: number,
    from: readonly CampaignState[],
    to: CampaignState,
    work?: (tx: Connection) => Promise<unknown>,
    patch: { started_at?: number; finished_at?: number } = {},
  ): Promise<Campaign> {
    const c = await load(id);
    const now = clock.now();
    const moved = await inTransaction(conn, async (tx) => {
      if (!(await moveCampaign(tx, id, from, to, now, patch))) return false;
      await work?.(tx);
      return true;
    });
    if (!moved) {
      const current = (await load(id)).state;
      throw new CampaignError(
        `campaign ${id} is ${current}: it cannot become ${to} (only from ${from.join(' or ')})`,
      );
    }
    return { ...c, state: to };
  }

  return {
    /** Computes the audience and the estimate and stores the campaign as a draft. Sends nothing. */
    async create(input: CreateInput): Promise<CreateResult> {
      const portal = await getPortal(conn, input.portalId);
      if (!portal) throw new CampaignError(`no installed portal ${input.portalId}`);
      // The consent registry is brought up to date first: the audience is checked against it.
      const consentField = portalSettings(portal).consentField ?? deps.consentField;
      await syncConsent(
        { conn, api: deps.api, clock, logger: deps.logger, field: consentField },
        portal.id,
      );
      const audience = await buildAudience(
        {
          conn,
          api: deps.api,
          consentField,
          maxParts: deps.maxParts,
          ...(input.onProgress ? { onProgress: input.onProgress } : {}),
        },
        portal.id,
        input.template,
        input.source,
      );
      const choice = await deps.senderFor(portal, 'marketing');
      const rate = 1000 / choice.route.vtStepMs;
      const now = clock.now();
      const start = Math.max(now, input.sendAt ?? now);
      const durationS = estimateDuration(audience.eligible, rate, start, choice.quietHours);
      const cost =
        deps.pricePerPart === undefined
          ? null
          : Math.round(audience.parts * deps.pricePerPart * 100) / 100;
      const campaign = await createCampaign(
        conn,
        {
          portalId: portal.id,
          name: input.name,
          template: input.template,
          source: input.source.kind === 'csv' ? 'csv' : `crm:${input.source.entity}`,
          sourceDetail:
            input.source.kind === 'csv'
              ? input.source.name
              : input.source.filter
                ? JSON.stringify(input.source.filter)
                : null,
          alphaName: input.sender ?? choice.alphaName,
          sendAt: input.sendAt ?? null,
          timeline: input.timeline ?? true,
          recipients: audience.recipients,
          parts: audience.parts,
          cost,
          durationS,
        },
        now,
      );
      return {
        id: campaign.id,
        recipients: audience.eligible,
        excluded: audience.excluded,
        parts: audience.parts,
        cost,
        duration_s: durationS,
      };
    },

    /** The service's feeder starts sending within a second (or at `--at`). */
    start: (id: number) => move(id, ['draft'], 'running', undefined, { started_at: clock.now() }),

    /**
     * Stops sending at once: the campaign's messages that have not left yet are taken back
     * out of the outbox (their recipients wait again); one already handed to MTS completes.
     */
    pause: (id: number) =>
      move(id, ['running'], 'paused', (tx) =>
        withdrawCampaignMessages(tx, id, 'pending', clock.now()),
      ),

    resume: (id: number) => move(id, ['paused'], 'running'),

    /** Like pause, for good: every recipient not sent yet is cancelled. */
    cancel: (id: number) =>
      move(
        id,
        ['draft', 'running', 'paused'],
        'cancelled',
        (tx) => withdrawCampaignMessages(tx, id, 'cancelled', clock.now()),
        { finished_at: clock.now() },
      ),

    /**
     * Sends the rendered text of the campaign's first eligible recipient to test phones, now
     * (a test SMS is not marketing: no quiet hours, no consent check; type `test`).
     */
    async test(
      id: number,
      phones: string[],
    ): Promise<{ to: string; messageId: string; state: string }[]> {
      const c = await load(id);
      const sample = await campaignSampleText(conn, id);
      if (sample === undefined)
        throw new CampaignError(
          `campaign ${id} has no eligible recipient to take a sample text from`,
        );
      const normalized = phones.map((p) => {
        const n = normalizePhone(p);
        if (!n.ok) throw new CampaignError(`${p}: ${n.message}`);
        return n.phone;
      });
      const choice = await deps.senderFor(c.portal_id, 'transactional');
      const out = [];
      for (const to of normalized) {
        const r = await intakeSms(
          conn,
          {
            portalId: c.portal_id,
            b24MessageId: null,
            source: 'test',
            kind: 'transactional',
            to,
            text: sample,
            alphaName: c.alpha_name,
            route: choice.route,
            maxParts: deps.maxParts,
          },
          clock.now(),
        );
        out.push({ to, messageId: r.message.id, state: r.message.state });
      }
      return out;
    },

    async status(id: number): Promise<CampaignStatus> {
      const c = await load(id);
      const p = await campaignProgress(conn, id);
      const m = (k: string) => p.messages[k] ?? 0;
      const excludedBy = JSON.parse(c.excluded) as ExcludedCounts;
      return {
        id: c.id,
        name: c.name,
        state: c.state,
        recipients: c.recipients,
        queued: p.recipients.pending + m('queued'),
        sent: m('sent') + m('delivered') + m('undelivered'),
        delivered: m('delivered'),
        undelivered: m('undelivered'),
        failed: m('failed'),
        excluded: Object.values(excludedBy).reduce((a, b) => a + b, 0),
        excluded_by: excludedBy,
        cancelled: p.recipients.cancelled,
      };
    },

    list: (portalId?: string) => listCampaigns(conn, portalId),
  };
}

export type Campaigns = ReturnType<typeof makeCampaigns>;
