import type { Logger } from 'pino';
import type { Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import type { Connection, ConsentEntityType } from '../store/index.js';

export type { ConsentEntityType };

/** The default consent field (SPEC §6 CONSENT_FIELD). */
export const DEFAULT_CONSENT_FIELD = 'UF_CRM_SMS_CONSENT';

/** What the consent functions need. */
export interface ConsentDeps {
  conn: Connection;
  api: Bitrix24Api;
  clock: Clock;
  /** Default: silent. */
  logger?: Logger;
  /** The boolean user field holding consent (CONSENT_FIELD). Default `UF_CRM_SMS_CONSENT`. */
  field?: string;
  /** A portal's own consent field (its settings), when it has one; else `field`. */
  fieldFor?: (portalId: string) => Promise<string | undefined>;
  /** CRM types whose records carry consent. Default `['contact', 'lead']`. */
  entities?: ConsentEntityType[];
}

/** Outcome of a consent check. */
export type ConsentDecision =
  | { allowed: true }
  | {
      allowed: false;
      /** For the message's fail_reason, e.g. `no marketing consent: contact #12 has UF_CRM_SMS_CONSENT = no`. */
      reason: string;
      /**
       * True when the CRM could not be asked (limits, outage): the answer may differ later.
       * The message must not be sent now either way.
       */
      retryable?: boolean;
    };

/** The consent field of a portal: its own setting, else CONSENT_FIELD, else the default. */
export async function consentFieldOf(
  deps: Pick<ConsentDeps, 'field' | 'fieldFor'>,
  portalId: string,
): Promise<string> {
  return (await deps.fieldFor?.(portalId)) ?? deps.field ?? DEFAULT_CONSENT_FIELD;
}

export const DEFAULT_ENTITIES: readonly ConsentEntityType[] = ['contact', 'lead'];

/** `crm.contact` / `crm.lead`: the classic method family of a type. */
export function methodPrefix(entity: ConsentEntityType): string {
  return `crm.${entity}`;
}

/** Bitrix24 page size of list methods (`list-methods-pecularities.md`). */
export const PAGE_SIZE = 50;
