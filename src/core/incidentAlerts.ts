import type { Logger } from 'pino';
import type { Bitrix24Api } from '../bitrix24/types.js';
import type { Clock } from '../clock.js';
import { type Connection, type Contract, listPortals, type Portal } from '../store/index.js';
import { type AdminAlert, sendAdminAlert } from './adminAlert.js';
import { type ContractDirectory, contractIdFor } from './contracts.js';

/** A pause or hold that began or ended on a contract (the scheduler reports them once). */
export type SendingIncident =
  | { kind: 'contract-paused'; contractId: string; reason: string; code: string }
  | { kind: 'contract-resumed'; contractId: string }
  | { kind: 'alpha-held'; contractId: string; alphaName: string; reason: string }
  | { kind: 'alpha-released'; contractId: string; alphaName: string };

/** What a portal's administrator is told about an incident. */
export function alertOf(i: SendingIncident): AdminAlert {
  switch (i.kind) {
    case 'contract-paused':
      return { kind: 'sending_paused', reason: i.reason };
    case 'contract-resumed':
      return { kind: 'sending_resumed' };
    case 'alpha-held':
      return { kind: 'alpha_name_held', alphaName: i.alphaName, reason: i.reason };
    case 'alpha-released':
      return {
        kind: 'text',
        text: {
          ru: `MTS снова принимает альфа-имя ${i.alphaName}: ожидавшие сообщения отправляются.`,
          en: `MTS accepts the alpha name ${i.alphaName} again: the waiting messages are going out.`,
        },
      };
  }
}

/** The active portals that send on `contractId` (their own contract, else the default). */
export function portalsOnContract<P extends Pick<Portal, 'id' | 'status'>>(
  portals: P[],
  contracts: Map<string, Contract>,
  contractId: string,
): P[] {
  return portals.filter(
    (p) => p.status === 'active' && contractIdFor(p.id, contracts) === contractId,
  );
}

/**
 * Tells the admins of every portal sending on the incident's contract
 * (`im.notify.system.add`). Never throws: a portal that cannot be told is logged and skipped.
 */
export function makeIncidentAlerts(deps: {
  api: Bitrix24Api;
  conn: Connection;
  clock: Clock;
  logger: Logger;
  contracts: Pick<ContractDirectory, 'byId'>;
}) {
  return async (i: SendingIncident): Promise<void> => {
    const alert = alertOf(i);
    try {
      const portals = portalsOnContract(
        await listPortals(deps.conn),
        await deps.contracts.byId(),
        i.contractId,
      );
      for (const p of portals)
        await sendAdminAlert(deps, p.id, alert).catch((err) =>
          deps.logger.warn(
            { portalId: p.id, err: (err as Error).message, alert: alert.kind },
            'could not notify the portal admin (im.notify.system.add)',
          ),
        );
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'admin alert failed');
    }
  };
}
