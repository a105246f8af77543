import { parseQuietHours } from '../domain/quietHours.js';
import {
  type Connection,
  type Contract,
  getPortal,
  type Portal,
  portalSettings,
} from '../store/index.js';
import { type ContractDirectory, contractIdFor } from './contracts.js';
import type { SenderChoice } from './intake.js';

/** What a portal without settings of its own gets (the configuration). */
export interface SenderDefaults {
  /** MTS_SENDER: the transactional alpha name. */
  sender: string;
  /** MTS_SENDER_MARKETING: the marketing alpha name. */
  senderMarketing: string;
  /** MARKETING_QUIET_HOURS (empty: none). */
  quietHours: string;
  /** SMS_MAX_PARTS. */
  maxParts: number;
  /** MTS_RATE_LIMIT: the rate of a contract that is not stored (requests per second). */
  rate: number;
}

export type MessageKind = 'transactional' | 'marketing';

/**
 * How a portal's message of `kind` goes out. The alpha name is the portal's setting, else its
 * contract's, else the configuration's; marketing keeps the portal's quiet hours, else the
 * configured ones; the route is the portal's own contract when it has one, else the default,
 * one rate slot of that contract apart in its flow.
 */
export function chooseSender(
  portal: Pick<Portal, 'id' | 'settings'> | undefined,
  contracts: Map<string, Contract>,
  kind: MessageKind,
  defaults: SenderDefaults,
): SenderChoice {
  const s = portal ? portalSettings(portal) : {};
  const contractId = contractIdFor(portal?.id ?? null, contracts);
  const contract = contracts.get(contractId);
  const marketing = kind === 'marketing';
  return {
    alphaName: marketing
      ? (s.senderMarketing ?? contract?.sender_marketing ?? defaults.senderMarketing)
      : (s.sender ?? contract?.sender ?? defaults.sender),
    quietHours: marketing ? parseQuietHours(s.quietHours ?? defaults.quietHours) : null,
    maxParts: defaults.maxParts,
    route: { contractId, vtStepMs: 1000 / (contract?.rate ?? defaults.rate) },
  };
}

/** `chooseSender` over the store: takes a portal row (the intake path has one) or its id. */
export function makeSenderChoice(deps: {
  conn: Connection;
  contracts: Pick<ContractDirectory, 'byId'>;
  defaults: SenderDefaults;
}) {
  return async (portal: Portal | string | null, kind: MessageKind): Promise<SenderChoice> => {
    const p = typeof portal === 'string' ? await getPortal(deps.conn, portal) : portal;
    return chooseSender(p ?? undefined, await deps.contracts.byId(), kind, deps.defaults);
  };
}

export type SenderFor = ReturnType<typeof makeSenderChoice>;
