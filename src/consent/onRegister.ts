import type { Logger } from 'pino';
import type { Bitrix24Api } from '../bitrix24/types.js';
import { ensureConsentField } from './field.js';
import type { ConsentSyncer } from './syncer.js';

/**
 * Consent setup after our provider is registered in a portal: the consent field, then (while
 * the workers run) a first sync of the portal's CRM. Never throws: a conflicting field must
 * not block the SMS provider — it is logged, and marketing stays refused until it is fixed.
 */
export function consentOnRegister(deps: {
  api: Bitrix24Api;
  logger: Logger;
  /** CONSENT_FIELD. */
  field: string;
  /** A portal's own consent field, when it has one. */
  fieldFor?: (portalId: string) => Promise<string | undefined>;
  syncer: Pick<ConsentSyncer, 'syncNow'>;
  /** Whether the workers run (a CLI `register` does not sync). */
  syncing: () => boolean;
}) {
  return async (portal: { id: string }): Promise<void> => {
    const field = (await deps.fieldFor?.(portal.id)) ?? deps.field;
    try {
      await ensureConsentField(deps.api, portal.id, field);
    } catch (err) {
      deps.logger.warn(
        { portalId: portal.id, err: (err as Error).message },
        `could not create the consent field ${field}`,
      );
    }
    if (deps.syncing())
      void deps.syncer
        .syncNow(portal.id)
        .catch((err) =>
          deps.logger.warn(
            { portalId: portal.id, err: (err as Error).message },
            'consent sync failed; will retry',
          ),
        );
  };
}
