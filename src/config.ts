import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { originOf } from './bitrix24/oauthServers.js';
import { parseQuietHours } from './domain/quietHours.js';
import { DEFAULT_MAX_PARTS, MTS_MAX_PARTS } from './domain/segments.js';

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** An MTS alpha name: 1–11 GSM-7 characters (SPEC §2). */
export const alphaName = z
  .string()
  .min(1)
  .max(11, 'an alpha name is at most 11 characters')
  .refine(
    (s) => [...s].every((c) => GSM7_BASIC.includes(c)),
    'an alpha name uses GSM-7 characters only (Latin letters, digits, basic punctuation)',
  );

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/** Marketing quiet hours (see parseQuietHours): validated here, parsed where used. */
const quietHours = z
  .string()
  .default('21:00-09:00')
  .superRefine((s, ctx) => {
    try {
      parseQuietHours(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/** Whether any MTS credential is set (then all that MTS needs must be). */
function mtsCredentialsSet(c: {
  MTS_CLIENT_ID?: string | undefined;
  MTS_LOGIN?: string | undefined;
  MTS_PASSWORD?: string | undefined;
  MTS_API_TOKEN?: string | undefined;
}): boolean {
  return [c.MTS_CLIENT_ID, c.MTS_LOGIN, c.MTS_PASSWORD, c.MTS_API_TOKEN].some(Boolean);
}

export const configSchema = z
  .object({
    NODE_ENV: z.string().default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    /** Default `http://localhost:{PORT}`. */
    PUBLIC_URL: z.preprocess(emptyToUndefined, z.url().optional()),
    DATABASE_URL: z
      .string()
      .default('sqlite:./data/b24-mts-sms.sqlite')
      .refine((u) => /^(sqlite:|postgres(ql)?:\/\/)/.test(u), 'use sqlite:<path> or postgres://…'),
    B24_CLIENT_ID: optionalString,
    B24_CLIENT_SECRET: optionalString,
    /**
     * The Bitrix24 OAuth servers we trust, comma-separated (default `https://oauth.bitrix.info`;
     * the Russian cloud also uses `https://oauth.bitrix24.tech`; an on-premise portal is its
     * own). Installs and updates are verified, and tokens refreshed, only there: a posted
     * `server_endpoint` is used when its origin is on this list, else the install is refused.
     * The first entry is the default. Parsed into a list of origins.
     */
    B24_OAUTH_URL: z
      .string()
      .default('https://oauth.bitrix.info')
      .transform((v, ctx) => {
        const parts = v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        const origins: string[] = [];
        for (const p of parts) {
          const origin = originOf(p);
          if (!origin) {
            ctx.addIssue({ code: 'custom', message: `"${p}" is not an http(s) URL` });
            return z.NEVER;
          }
          origins.push(origin);
        }
        if (origins.length === 0) {
          ctx.addIssue({ code: 'custom', message: 'name at least one OAuth server URL' });
          return z.NEVER;
        }
        return origins as readonly string[];
      }),
    /** Leaky bucket per portal: requests per second it drains (2; Enterprise 5). */
    B24_RATE: z.coerce.number().positive().default(2),
    /** Leaky bucket per portal: requests it holds before blocking (50; Enterprise 250). */
    B24_BURST: positiveInt(50),
    /** How long a status may wait to share a batch with others before it goes alone (ms). */
    B24_PUSH_DELAY_MS: z.coerce.number().int().min(0).default(2000),
    MTS_API_URL: z
      .url()
      .default('https://api.communicator.mts.by')
      .transform((u) => u.replace(/\/+$/, '')),
    MTS_CLIENT_ID: optionalString,
    MTS_LOGIN: optionalString,
    MTS_PASSWORD: optionalString,
    MTS_API_TOKEN: optionalString,
    MTS_SENDER: z.preprocess(emptyToUndefined, alphaName.optional()),
    MTS_SENDER_MARKETING: z.preprocess(emptyToUndefined, alphaName.optional()),
    MTS_RATE_LIMIT: z.coerce.number().positive().max(1000).default(10),
    /**
     * Jitter headroom of the rate limiter, ms: rate slots are (1000 + this) / MTS_RATE_LIMIT ms
     * apart and a request leaves at most a third of this after its slot (the rest absorbs
     * network and scheduling jitter), so no 1 s window at MTS
     * ever holds more than MTS_RATE_LIMIT requests. Default 15 (98.5 % of the contracted rate).
     */
    MTS_RATE_HEADROOM_MS: z.coerce.number().int().min(0).max(1000).default(15),
    /**
     * Seconds a lookup by extra_id may answer "not found" after a send attempt before that
     * attempt counts as never received (MTS may commit a timed-out send late). Default 120.
     */
    MTS_LOOKUP_GRACE: z.coerce.number().int().min(0).default(120),
    /**
     * Seconds before the first probe of a paused MTS account or held alpha name; probes then
     * double, at most 30 s apart for the first ten minutes. Default 5.
     */
    MTS_PROBE_AFTER: z.coerce.number().positive().default(5),
    /** Key that encrypts per-portal MTS passwords and tokens at rest (required to store one). */
    SECRET_KEY: z.preprocess(
      emptyToUndefined,
      z.string().min(16, 'use at least 16 characters').optional(),
    ),
    /** Final messages older than this many days are deleted (in small batches). */
    RETENTION_DAYS: positiveInt(180),
    /** Price of one SMS part (BYN), for campaign estimates; unset: no cost shown. */
    PRICE_PER_PART: z.preprocess(emptyToUndefined, z.coerce.number().nonnegative().optional()),
    MTS_SMS_TTL: z.coerce.number().int().min(300).max(259200).default(86400),
    MTS_TIMEOUT: positiveInt(15),
    MTS_POLL_AFTER: positiveInt(300),
    MTS_POLL_INTERVAL: positiveInt(60),
    /** Seconds past MTS_SMS_TTL after which a message with no final state counts as EXPIRED. */
    MTS_EXPIRE_GRACE: positiveInt(3600),
    SENDER_CONCURRENCY: positiveInt(16),
    /**
     * Longest text accepted, in SMS parts (160/153 GSM-7, 70/67 UCS-2 characters each); a
     * longer one is refused with the number of parts it needs. Default 5; 1–15 (MTS's own
     * limit is 15 parts = 1005 characters in Cyrillic or 2295 in Latin).
     */
    SMS_MAX_PARTS: z.coerce.number().int().min(1).max(MTS_MAX_PARTS).default(DEFAULT_MAX_PARTS),
    CONSENT_FIELD: z
      .string()
      .regex(/^UF_CRM_[A-Z0-9_]+$/)
      .default('UF_CRM_SMS_CONSENT'),
    /**
     * When marketing SMS wait (Europe/Minsk): `21:00-09:00` (default; every day),
     * `workdays 20:00-09:00; weekends 18:00-11:00` (weekends = Saturdays, Sundays and
     * Belarusian public holidays; `none` for no quiet hours on that kind of day), `mts`
     * (MTS's curfew, the same as that example), or empty for none.
     */
    MARKETING_QUIET_HOURS: quietHours,
    ADMIN_TOKEN: optionalString,
    /** When set, `/metrics` wants `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: optionalString,
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** `auto` (readable lines on a terminal, JSON otherwise), `json` or `pretty`. */
    LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    BODY_LIMIT: positiveInt(256 * 1024),
  })
  .superRefine((c, ctx) => {
    if (mtsCredentialsSet(c)) {
      if (!c.MTS_CLIENT_ID)
        ctx.addIssue({
          code: 'custom',
          path: ['MTS_CLIENT_ID'],
          message: 'required when MTS credentials are set',
        });
      else if (!/^\d+$/.test(c.MTS_CLIENT_ID))
        ctx.addIssue({
          code: 'custom',
          path: ['MTS_CLIENT_ID'],
          message: 'the numeric client id from MTS paths',
        });
      if (!c.MTS_API_TOKEN && !(c.MTS_LOGIN && c.MTS_PASSWORD))
        ctx.addIssue({
          code: 'custom',
          path: ['MTS_LOGIN'],
          message: 'set MTS_LOGIN and MTS_PASSWORD, or MTS_API_TOKEN',
        });
      if (!c.MTS_SENDER)
        ctx.addIssue({
          code: 'custom',
          path: ['MTS_SENDER'],
          message: 'required when MTS credentials are set: your registered alpha name',
        });
    }
    if (Boolean(c.B24_CLIENT_ID) !== Boolean(c.B24_CLIENT_SECRET))
      ctx.addIssue({
        code: 'custom',
        path: [c.B24_CLIENT_ID ? 'B24_CLIENT_SECRET' : 'B24_CLIENT_ID'],
        message: 'set both B24_CLIENT_ID and B24_CLIENT_SECRET',
      });
  });

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends Omit<RawConfig, 'PUBLIC_URL'> {
  /** Base of HANDLER and callback URLs, without a trailing slash. */
  readonly PUBLIC_URL: string;
  /** True when MTS or Bitrix24 credentials are missing: the built-in emulators stand in. */
  readonly sandbox: boolean;
  readonly mtsSender: string;
  readonly mtsSenderMarketing: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads `.env` (if present) under the real environment; the environment wins. */
export function readEnv(
  env: NodeJS.ProcessEnv = process.env,
  dotenvPath = '.env',
): Record<string, string | undefined> {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  return { ...fromFile, ...env };
}

/**
 * What a service that sends (`serve`, `send`) still lacks when only one side of a production
 * configuration is set — MTS credentials without Bitrix24's or the reverse — or undefined.
 * Half a configuration is a mistake, never a reason to fall back to sandbox mode and send
 * nothing. (The CRM tools, `phones`, need Bitrix24's alone.)
 */
export function halfConfigured(c: RawConfig): string | undefined {
  const mtsSet = mtsCredentialsSet(c);
  const b24Set = [c.B24_CLIENT_ID, c.B24_CLIENT_SECRET].some(Boolean);
  if (mtsSet === b24Set) return undefined;
  const missing = mtsSet
    ? [!c.B24_CLIENT_ID && 'B24_CLIENT_ID', !c.B24_CLIENT_SECRET && 'B24_CLIENT_SECRET']
    : [
        !c.MTS_CLIENT_ID && 'MTS_CLIENT_ID',
        !c.MTS_API_TOKEN &&
          !(c.MTS_LOGIN && c.MTS_PASSWORD) &&
          'MTS_LOGIN and MTS_PASSWORD (or MTS_API_TOKEN)',
        !c.MTS_SENDER && 'MTS_SENDER',
      ];
  return `${mtsSet ? 'MTS' : 'Bitrix24'} credentials are set but ${mtsSet ? 'Bitrix24' : 'MTS'} ones are not — missing: ${missing.filter(Boolean).join(', ')}. Set them for production, or unset every MTS_* and B24_CLIENT_* credential for sandbox mode.`;
}

/** Parses the environment once into a frozen, typed object. Nothing else reads process.env. */
export function loadConfig(
  env: Record<string, string | undefined> = readEnv(),
  opts: { sends?: boolean } = {},
): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  const c = parsed.data;
  const half = opts.sends ? halfConfigured(c) : undefined;
  if (half) throw new ConfigError([half]);
  const sandbox = !(c.MTS_CLIENT_ID && c.B24_CLIENT_ID);
  if (sandbox && c.NODE_ENV === 'production') {
    throw new ConfigError([
      'sandbox mode (built-in emulators) refuses to start with NODE_ENV=production: set MTS_CLIENT_ID, MTS credentials, MTS_SENDER, B24_CLIENT_ID and B24_CLIENT_SECRET',
    ]);
  }
  const mtsSender = c.MTS_SENDER ?? 'SANDBOX';
  const PUBLIC_URL = (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    ...c,
    PUBLIC_URL,
    sandbox,
    mtsSender,
    mtsSenderMarketing: c.MTS_SENDER_MARKETING ?? mtsSender,
  });
}
