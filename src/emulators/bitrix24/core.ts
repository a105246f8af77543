import { LeakyBucket } from '../../bitrix24/leakyBucket.js';
import type { Clock } from '../../clock.js';
import { CrmStore } from './crm.js';
import { userFieldEntityId } from './methods/crm.js';
import { PortalState } from './state.js';
import { TokenRegistry } from './tokens.js';

/** Identity of the emulated portal and the app installed on it. */
export interface PortalIdentity {
  clientId: string;
  clientSecret: string;
  memberId: string;
  domain: string;
  applicationToken: string;
}

/** Switches tests flip to provoke failures. */
export interface Faults {
  /** Every REST and OAuth request answers 503 with an HTML page. */
  outage: boolean;
  /** Methods answering 429 OPERATION_TIME_LIMIT → epoch ms the block lifts (null: until cleared). */
  blockedMethods: Map<string, number | null>;
  /** Every REST call answers 401 ACCESS_DENIED: the portal's plan has no REST API. */
  restUnavailable: boolean;
}

/** Everything the emulator's routes and portal actions share. */
export class EmulatorCore {
  readonly state = new PortalState();
  readonly tokens: TokenRegistry;
  readonly crm: CrmStore;
  readonly bucket: LeakyBucket;
  readonly faults: Faults = { outage: false, blockedMethods: new Map(), restUnavailable: false };
  /** Base URL once listening, e.g. `http://127.0.0.1:41234`. */
  url = '';
  /** The app's base URL, as installed (its page is `${appBaseUrl}/b24/app`). */
  appBaseUrl = '';
  /** The portal's language (`LANGUAGE_ID` in app events, `app.info`). */
  language = 'ru';

  constructor(
    readonly identity: PortalIdentity,
    readonly clock: Clock,
    ttlSec: number,
    bucket: { rate: number; burst: number },
  ) {
    this.tokens = new TokenRegistry(clock, ttlSec);
    this.bucket = new LeakyBucket({ rate: bucket.rate, burst: bucket.burst, clock });
    this.crm = new CrmStore(clock, (entityTypeId, fieldName) => {
      const entityId = userFieldEntityId(entityTypeId);
      return this.state.userFields.find(
        (f) => f.ENTITY_ID === entityId && f.FIELD_NAME === fieldName,
      )?.USER_TYPE_ID;
    });
  }

  /** `{url}/rest/`: both the portal's client_endpoint and the OAuth server's server_endpoint. */
  get restBase(): string {
    return `${this.url}/rest/`;
  }
}
