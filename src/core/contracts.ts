import type { Clock } from '../clock.js';
import { createMtsClient, type MtsClientOptions } from '../mts/client.js';
import type { DepartureGate } from '../mts/departures.js';
import type { MtsClient } from '../mts/types.js';
import {
  type Connection,
  type Contract,
  DEFAULT_CONTRACT,
  getContract,
  listContracts,
  portalContractId,
  upsertContract,
} from '../store/index.js';
import { decryptSecret } from './secrets.js';

/** An MTS account's address and credentials (the configured one, or the emulator's). */
export interface MtsAccount {
  baseUrl: string;
  clientId: string;
  login?: string;
  password?: string;
  token?: string;
}

export interface ContractDirectoryOptions {
  conn: Connection;
  clock: Clock;
  /**
   * The configured MTS account: the `default` contract. Portal contracts without an address
   * of their own use its `baseUrl`.
   */
  account: MtsAccount;
  /** The default contract's alpha names and contracted rate (requests per second). */
  defaults: { sender: string; senderMarketing: string; rate: number };
  /** Per-request deadline of every MTS client, ms. */
  timeoutMs: number;
  /** SECRET_KEY, to decrypt portal contracts' passwords and tokens; without it they have none. */
  secretKey?: string | undefined;
  /** The default contract's client. Default: one made from `account`. */
  defaultClient?: MtsClient | undefined;
  /** How long `byId` trusts what it read. Default 5000 ms (a CLI `portal set` shows up within it). */
  refreshMs?: number;
  /** Makes a client. Default createMtsClient. */
  createClient?: (opts: MtsClientOptions) => MtsClient;
  /** The departure thread the clients it makes send from (see mts/departures.ts). */
  departures?: DepartureGate | undefined;
}

export interface ContractDirectory {
  /** The client of the default contract (the configured account). */
  readonly defaultClient: MtsClient;
  /** Writes the configured account as the `default` contract (each start); live state is kept. */
  saveDefault(): Promise<Contract>;
  /** Contracts by id, re-read once older than `refreshMs`. */
  byId(): Promise<Map<string, Contract>>;
  /** One contract: from `byId`, else read now (created since); undefined when there is none. */
  get(id: string): Promise<Contract | undefined>;
  /** A contract's MTS client with its own credentials (secrets decrypted), rebuilt when they change. */
  mtsFor(c: Contract): MtsClient;
  /** Ends the kept-alive connections of the clients it built (at shutdown). */
  close(): void;
}

/** The contract a portal sends on: its own when it has one, else the default. */
export function contractIdFor(portalId: string | null, contracts: Map<string, Contract>): string {
  const own = portalId ? portalContractId(portalId) : undefined;
  return own && contracts.has(own) ? own : DEFAULT_CONTRACT;
}

/** The MTS contracts this instance sends on, and a client for each. */
export function makeContractDirectory(opts: ContractDirectoryOptions): ContractDirectory {
  const { conn, clock, account, timeoutMs } = opts;
  const refreshMs = opts.refreshMs ?? 5000;
  const createClient = opts.createClient ?? createMtsClient;
  const departures = opts.departures ? { departures: opts.departures } : {};
  const defaultClient =
    opts.defaultClient ?? createClient({ ...account, timeoutMs, ...departures });
  const clients = new Map<string, { key: string; client: MtsClient }>();
  let cache = new Map<string, Contract>();
  let readAt = Number.NEGATIVE_INFINITY;

  const secret = (v: string | null) =>
    v && opts.secretKey ? decryptSecret(v, opts.secretKey) : undefined;

  async function byId(): Promise<Map<string, Contract>> {
    if (clock.now() - readAt > refreshMs) {
      cache = new Map((await listContracts(conn)).map((c) => [c.id, c]));
      readAt = clock.now();
    }
    return cache;
  }

  return {
    defaultClient,
    saveDefault: () =>
      upsertContract(
        conn,
        {
          id: DEFAULT_CONTRACT,
          label: 'MTS account from the configuration',
          api_url: null,
          client_id: account.clientId || null,
          login: account.login ?? null,
          password_enc: null,
          token_enc: null,
          sender: opts.defaults.sender,
          sender_marketing: opts.defaults.senderMarketing,
          rate: opts.defaults.rate,
        },
        clock.now(),
      ),
    byId,
    async get(id) {
      return (await byId()).get(id) ?? (await getContract(conn, id));
    },
    mtsFor(c) {
      if (c.id === DEFAULT_CONTRACT) return defaultClient;
      const key = [c.api_url, c.client_id, c.login, c.password_enc, c.token_enc].join('|');
      const cached = clients.get(c.id);
      if (cached?.key === key) return cached.client;
      const password = secret(c.password_enc);
      const token = secret(c.token_enc);
      const client = createClient({
        baseUrl: c.api_url ?? account.baseUrl,
        clientId: c.client_id ?? '',
        ...(c.login ? { login: c.login } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(token !== undefined ? { token } : {}),
        timeoutMs,
        ...departures,
      });
      clients.set(c.id, { key, client });
      return client;
    },
    close() {
      if (!opts.defaultClient) defaultClient.close();
      for (const { client } of clients.values()) client.close();
    },
  };
}
