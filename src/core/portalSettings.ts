import { alphaName } from '../config.js';
import { parseQuietHours } from '../domain/quietHours.js';
import { InputError } from '../errors.js';
import { portalLang } from '../i18n/lang.js';
import {
  type Connection,
  type Contract,
  DEFAULT_CONTRACT,
  deleteContract,
  forgetConsentRegistry,
  getContract,
  inTransaction,
  moveWaitingMessages,
  type Portal,
  type PortalSettings,
  portalContractId,
  portalSettings,
  updatePortalSettings,
  upsertContract,
} from '../store/index.js';
import { encryptSecret } from './secrets.js';
import type { SenderDefaults } from './senderChoice.js';

/**
 * One portal's settings, as a person changes them: the same rules for `portal set` (flags,
 * strings) and `PUT /api/settings` (JSON). Every field is optional; an absent one is left as
 * it is.
 */
export interface SettingsInput {
  sender?: string;
  senderMarketing?: string;
  /** Extra Sender IDs a manager may choose in the CRM (one Bitrix24 provider each). */
  senders?: string[];
  quietHours?: string;
  timelineNotes?: string;
  robotTrace?: string;
  language?: string;
  restRate?: string;
  restBurst?: string;
  enterprise?: boolean;
  /** The Bitrix24 user id alerts go to. */
  alertUserId?: string;
  /** The boolean user field holding marketing consent; '' = CONSENT_FIELD. */
  consentField?: string;
  mtsClientId?: string;
  mtsLogin?: string;
  mtsPassword?: string;
  mtsToken?: string;
  mtsRate?: string;
  mtsUrl?: string;
  /** Drop the portal's own contract: it sends on the configured one again. */
  mtsDefault?: boolean;
}

/** A wrong setting, in words that name it (the CLI exits 2, the API answers 400). */
export class SettingsInputError extends InputError {}

/** How a setting is named to the person who got it wrong (`--sender` or `sender`). */
export type FieldName = (field: keyof SettingsInput) => string;

/** The CLI's names: `senderMarketing` → `--sender-marketing`. */
export const flagName: FieldName = (f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The portal's own MTS contract as it will be stored. */
export interface ContractChange {
  clientId: string;
  login: string | null;
  passwordEnc: string | null;
  tokenEnc: string | null;
  rate: number;
  url: string | null;
}

/** A validated change: the settings patch, and the contract to store or drop. */
export interface SettingsChange {
  patch: PortalSettings;
  contract: ContractChange | null;
  dropContract: boolean;
}

const MAX_EXTRA_SENDERS = 10;

/**
 * Validates `input` into a change. `existing` is the portal's own contract, if any: a change
 * of its rate or address keeps its stored login and secrets (they are never shown back, so a
 * form cannot send them again).
 */
export function settingsChange(
  input: SettingsInput,
  opts: { secretKey: string | undefined; existing?: Contract | undefined; name?: FieldName },
): SettingsChange {
  const name = opts.name ?? flagName;
  const fail = (field: keyof SettingsInput, why: string): never => {
    throw new SettingsInputError(`${name(field)}: ${why}`);
  };
  const alpha = (v: string, field: keyof SettingsInput) => {
    const r = alphaName.safeParse(v);
    if (!r.success) fail(field, `"${v}": ${r.error.issues[0]?.message}`);
    return v;
  };
  const o = input;
  const patch: PortalSettings = {};
  if (o.sender !== undefined) patch.sender = alpha(o.sender, 'sender');
  if (o.senderMarketing !== undefined)
    patch.senderMarketing = alpha(o.senderMarketing, 'senderMarketing');
  if (o.senders !== undefined) {
    const list = [...new Set(o.senders.map((s) => s.trim()).filter(Boolean))];
    if (list.length > MAX_EXTRA_SENDERS)
      fail('senders', `at most ${MAX_EXTRA_SENDERS} extra Sender IDs`);
    patch.senders = list.map((s) => alpha(s, 'senders'));
  }
  if (o.quietHours !== undefined) {
    try {
      parseQuietHours(o.quietHours);
    } catch (err) {
      fail('quietHours', (err as Error).message);
    }
    patch.quietHours = o.quietHours;
  }
  if (o.timelineNotes !== undefined) {
    if (o.timelineNotes !== 'on' && o.timelineNotes !== 'off') fail('timelineNotes', 'on or off');
    patch.timelineNotes = o.timelineNotes === 'on';
  }
  if (o.language !== undefined) {
    if (o.language !== 'ru' && o.language !== 'en' && o.language !== 'auto')
      fail('language', 'ru, en, or auto (the portal’s own language)');
    patch.language = o.language === 'auto' ? undefined : (o.language as 'ru' | 'en');
  }
  if (o.robotTrace !== undefined) {
    if (!['log', 'comment', 'off'].includes(o.robotTrace))
      fail('robotTrace', 'log, comment or off');
    patch.robotTrace = o.robotTrace as 'log' | 'comment' | 'off';
  }
  if (o.enterprise) Object.assign(patch, { restRate: 5, restBurst: 250 });
  if (o.restRate !== undefined) {
    const n = Number(o.restRate);
    if (!(n > 0)) fail('restRate', 'a positive number of requests per second');
    patch.restRate = n;
  }
  if (o.restBurst !== undefined) {
    const n = Number(o.restBurst);
    if (!Number.isInteger(n) || n < 1) fail('restBurst', 'a positive whole number');
    patch.restBurst = n;
  }
  if (o.consentField !== undefined) {
    if (o.consentField !== '' && !/^UF_CRM_[A-Z0-9_]{1,40}$/.test(o.consentField))
      fail('consentField', `"${o.consentField}": a CRM user field name such as UF_CRM_SMS_CONSENT`);
    patch.consentField = o.consentField === '' ? undefined : o.consentField;
  }
  if (o.alertUserId !== undefined) {
    const n = Number(o.alertUserId);
    if (!Number.isInteger(n) || n < 1) fail('alertUserId', 'a Bitrix24 user id (a whole number)');
    patch.adminUserId = n;
  }
  if (o.mtsDefault && o.mtsClientId !== undefined)
    fail(
      'mtsDefault',
      `drops the portal's own contract: do not give ${name('mtsClientId')} with it`,
    );
  return {
    patch,
    contract: contractChange(o, opts.secretKey, opts.existing, fail),
    dropContract: o.mtsDefault === true,
  };
}

/** The portal's own MTS contract from the `mts*` fields, or null when none is given. */
function contractChange(
  o: SettingsInput,
  secretKey: string | undefined,
  existing: Contract | undefined,
  fail: (field: keyof SettingsInput, why: string) => never,
): ContractChange | null {
  const given = [o.mtsClientId, o.mtsLogin, o.mtsPassword, o.mtsToken, o.mtsRate, o.mtsUrl];
  if (given.every((v) => v === undefined)) return null;
  const clientId = o.mtsClientId ?? existing?.client_id ?? undefined;
  if (!clientId || !/^\d+$/.test(clientId))
    fail('mtsClientId', 'the numeric client id from your MTS API paths is required');
  if (o.mtsPassword === '')
    fail('mtsPassword', 'empty: give the password, or leave it out to keep the stored one');
  if (o.mtsToken === '')
    fail('mtsToken', 'empty: give the token, or leave it out to keep the stored one');
  if ((o.mtsPassword || o.mtsToken) && !secretKey)
    fail(
      o.mtsPassword ? 'mtsPassword' : 'mtsToken',
      'SECRET_KEY must be set to store an MTS password or token (it encrypts them at rest)',
    );
  const key = secretKey as string;
  // A new password or token replaces the stored credentials (a new password keeps the stored
  // login unless another is given); otherwise they are kept — but never sent to a new address
  // or account: changing the URL or client id needs the credentials again.
  const moved =
    existing !== undefined &&
    ((o.mtsUrl !== undefined && (o.mtsUrl.replace(/\/+$/, '') || null) !== existing.api_url) ||
      (o.mtsClientId !== undefined && o.mtsClientId !== existing.client_id));
  if (moved && o.mtsPassword === undefined && o.mtsToken === undefined)
    fail(
      o.mtsUrl !== undefined ? 'mtsUrl' : 'mtsClientId',
      'a new MTS address or client id needs the password (or token) again: the stored one is not sent elsewhere',
    );
  const login =
    o.mtsLogin ??
    (o.mtsToken !== undefined && o.mtsPassword === undefined ? null : (existing?.login ?? null));
  const passwordEnc = o.mtsPassword
    ? encryptSecret(o.mtsPassword, key)
    : o.mtsToken !== undefined
      ? null
      : (existing?.password_enc ?? null);
  const tokenEnc = o.mtsToken
    ? encryptSecret(o.mtsToken, key)
    : o.mtsPassword !== undefined
      ? null
      : (existing?.token_enc ?? null);
  if (!tokenEnc && !(login && passwordEnc))
    fail('mtsLogin', `${'login and password (or a token)'} are required for a portal contract`);
  const rate = o.mtsRate === undefined ? (existing?.rate ?? 10) : Number(o.mtsRate);
  if (!(rate > 0 && rate <= 1000)) fail('mtsRate', 'requests per second, e.g. 10 or 30');
  if (o.mtsUrl !== undefined && o.mtsUrl !== '' && !/^https?:\/\//.test(o.mtsUrl))
    fail('mtsUrl', 'an http(s) URL');
  const url =
    o.mtsUrl === undefined ? (existing?.api_url ?? null) : o.mtsUrl.replace(/\/+$/, '') || null;
  return { clientId: clientId as string, login, passwordEnc, tokenEnc, rate, url };
}

/**
 * Stores a change in one transaction: the settings, then the contract (stored, or dropped with
 * its queue moved) — all of it or none.
 */
export async function applySettings(
  conn: Connection,
  portal: Portal,
  change: SettingsChange,
  now: number,
): Promise<void> {
  await inTransaction(conn, async (tx) => {
    const before = portalSettings(portal).consentField;
    const next = await updatePortalSettings(tx, portal.id, change.patch, now);
    // Another consent field: what the registry read from the old one no longer holds.
    if ('consentField' in change.patch && next.consentField !== before)
      await forgetConsentRegistry(tx, portal.id);
    const id = portalContractId(portal.id);
    if (change.dropContract) {
      // Messages already queued on it move back to the default contract.
      await moveWaitingMessages(tx, id, DEFAULT_CONTRACT);
      await deleteContract(tx, id);
    }
    if (change.contract)
      await upsertContract(
        tx,
        {
          id,
          label: `MTS contract of ${portal.domain}`,
          api_url: change.contract.url,
          client_id: change.contract.clientId,
          login: change.contract.login,
          password_enc: change.contract.passwordEnc,
          token_enc: change.contract.tokenEnc,
          sender: next.sender ?? null,
          sender_marketing: next.senderMarketing ?? null,
          rate: change.contract.rate,
        },
        now,
      );
  });
}

/**
 * What a portal's own administrator may change from inside Bitrix24 (the operator's
 * `portal set` / ADMIN_TOKEN may change everything). Not the MTS contract, and not the REST
 * limits (the operator's account and the portal's plan); Sender IDs only on the portal's own
 * MTS contract — on the operator's shared one, an alpha name registered by another customer
 * must not be usable by this portal.
 */
export function checkPortalAdminChange(input: SettingsInput, ownContract: boolean): void {
  const operatorOnly: (keyof SettingsInput)[] = [
    'mtsClientId',
    'mtsLogin',
    'mtsPassword',
    'mtsToken',
    'mtsRate',
    'mtsUrl',
    'mtsDefault',
    'restRate',
    'restBurst',
    'enterprise',
  ];
  const alphaFields: (keyof SettingsInput)[] = ['sender', 'senderMarketing', 'senders'];
  const refused = [
    ...operatorOnly.filter((f) => input[f] !== undefined),
    ...(ownContract ? [] : alphaFields.filter((f) => input[f] !== undefined)),
  ];
  if (refused.length)
    throw new SettingsForbiddenError(
      `the service's operator sets ${refused.map((f) => apiFieldName(f)).join(', ')}${
        ownContract ? '' : ' (Sender IDs: on the operator’s MTS account)'
      }`,
    );
}

/** A change only the service's operator may make (403 in the API). */
export class SettingsForbiddenError extends Error {}

/** The API's names of the settings: `mtsPassword` → `mts.password`. */
export const apiFieldName: FieldName = (f) =>
  f === 'mtsDefault' || f === 'enterprise'
    ? f === 'mtsDefault'
      ? 'mts'
      : 'enterprise'
    : f.startsWith('mts')
      ? `mts.${f.charAt(3).toLowerCase()}${f.slice(4)}`
      : f;

/** A setting's value and where it comes from. */
export interface Setting<T> {
  value: T;
  from: 'portal' | 'contract' | 'configuration';
}

/** What a portal's settings are now, secrets as "set" / "not set" only. */
export interface SettingsView {
  portal: { id: string; domain: string };
  sender: Setting<string>;
  senderMarketing: Setting<string>;
  /** Extra Sender IDs, each its own provider in Bitrix24. */
  senders: string[];
  quietHours: Setting<string>;
  timelineNotes: Setting<boolean>;
  robotTrace: Setting<'log' | 'comment' | 'off'>;
  language: Setting<string>;
  rest: { rate: number; burst: number; from: 'portal' | 'configuration' };
  mts:
    | { contract: 'default'; rate: number }
    | {
        contract: 'own';
        clientId: string | null;
        login: string | null;
        password: 'set' | 'not set';
        token: 'set' | 'not set';
        rate: number;
        url: string | null;
      };
  /** The Bitrix24 user alerts go to (the installing administrator unless changed). */
  alertUserId: number | null;
  /** The boolean user field holding marketing consent. */
  consentField: Setting<string>;
}

/** What a portal without settings of its own gets (the configuration). */
export type SettingsDefaults = SenderDefaults & {
  /** CONSENT_FIELD. */
  consentField: string;
  /** B24_RATE, B24_BURST. */
  restRate: number;
  restBurst: number;
};

export async function readSettings(
  conn: Connection,
  portal: Portal,
  defaults: SettingsDefaults,
): Promise<SettingsView> {
  const s = portalSettings(portal);
  const c = await getContract(conn, portalContractId(portal.id));
  const pick = <T>(own: T | undefined, contract: T | null | undefined, config: T): Setting<T> =>
    own !== undefined
      ? { value: own, from: 'portal' }
      : contract !== undefined && contract !== null
        ? { value: contract, from: 'contract' }
        : { value: config, from: 'configuration' };
  return {
    portal: { id: portal.id, domain: portal.domain },
    sender: pick(s.sender, c?.sender, defaults.sender),
    senderMarketing: pick(s.senderMarketing, c?.sender_marketing, defaults.senderMarketing),
    senders: s.senders ?? [],
    quietHours: pick(s.quietHours, undefined, defaults.quietHours),
    timelineNotes: pick(s.timelineNotes, undefined, true),
    robotTrace: pick(s.robotTrace, undefined, 'log'),
    language: pick(s.language, undefined, portalLang(s)),
    rest: {
      rate: s.restRate ?? defaults.restRate,
      burst: s.restBurst ?? defaults.restBurst,
      from: s.restRate !== undefined || s.restBurst !== undefined ? 'portal' : 'configuration',
    },
    mts: c
      ? {
          contract: 'own',
          clientId: c.client_id,
          login: c.login,
          password: c.password_enc ? 'set' : 'not set',
          token: c.token_enc ? 'set' : 'not set',
          rate: c.rate,
          url: c.api_url,
        }
      : { contract: 'default', rate: defaults.rate },
    alertUserId: s.adminUserId ?? null,
    consentField: pick(s.consentField, undefined, defaults.consentField),
  };
}
