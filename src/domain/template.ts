/** Values for {@link renderTemplate}, keyed by placeholder name without the `#`s. */
export type TemplateValues = Record<string, string | number | null | undefined>;

/** Result of {@link renderTemplate}. */
export type RenderedTemplate =
  | { ok: true; text: string }
  | {
      ok: false;
      /** Placeholders whose value is null, undefined or blank, in order of appearance. */
      missing: string[];
      /** Placeholders that are not keys of the values at all, in order of appearance. */
      unknown: string[];
      /** One sentence naming every offending placeholder, fit for a CRM user. */
      message: string;
    };

/** `#NAME#` with NAME of upper-case letters, digits and `_`. A lone `#` ("order #12") is text. */
const PLACEHOLDER = /#([A-Z0-9_]+)#/g;

/**
 * Substitutes `#NAME#` placeholders. An unknown placeholder (not a key of `values`) or an
 * empty one (null, undefined, non-finite number or blank string) is an error naming it: a
 * message is never sent with a hole in it. Values are inserted as they are (not trimmed).
 */
export function renderTemplate(template: string, values: TemplateValues): RenderedTemplate {
  const missing: string[] = [];
  const unknown: string[] = [];
  const text = template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) {
      if (!unknown.includes(name)) unknown.push(name);
      return whole;
    }
    const value = valueText(values[name]);
    if (value === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    return value;
  });
  if (missing.length === 0 && unknown.length === 0) return { ok: true, text };

  const list = (names: string[]) => names.map((n) => `#${n}#`).join(', ');
  const parts: string[] = [];
  if (unknown.length > 0) {
    parts.push(`unknown placeholder${unknown.length > 1 ? 's' : ''} ${list(unknown)}`);
  }
  if (missing.length > 0) {
    parts.push(`${list(missing)} ${missing.length > 1 ? 'are' : 'is'} empty in the CRM record`);
  }
  return {
    ok: false,
    missing,
    unknown,
    message: `the SMS template cannot be filled: ${parts.join('; ')}`,
  };
}

function valueText(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return value.trim() === '' ? undefined : value;
}

/**
 * Formats money for an SMS: `1234.5` → `1 234,50 BYN`. Groups thousands with a plain space
 * (a no-break space may not survive GSM-7), uses a decimal comma and drops `,00`.
 * Accepts numbers, numeric strings (`"1234.50"`, `"1 234,50"`) and Bitrix24 money strings
 * `"1234.50|BYN"`, whose currency wins over `currency`. An empty `currency` prints the
 * number alone; an unparseable amount is returned as given.
 */
export function formatMoneyBYN(amount: number | string, currency = 'BYN'): string {
  let value: number;
  let cur = currency;
  if (typeof amount === 'number') {
    value = amount;
  } else {
    const [num = '', ownCurrency] = amount.split('|');
    if (ownCurrency?.trim()) cur = ownCurrency.trim();
    const normalized = num.replace(/[\s\u00a0\u202f]/g, '').replace(',', '.');
    value = normalized === '' ? Number.NaN : Number(normalized);
    if (!Number.isFinite(value)) return amount.trim();
  }
  if (!Number.isFinite(value)) return String(amount);

  const cents = Math.round(Math.abs(value) * 100);
  const whole = Math.floor(cents / 100);
  const fraction = cents % 100;
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  const sign = value < 0 && cents > 0 ? '-' : '';
  const number = `${sign}${grouped}${fraction === 0 ? '' : `,${String(fraction).padStart(2, '0')}`}`;
  return cur.trim() === '' ? number : `${number} ${cur.trim()}`;
}

/** CRM entities whose fields templates can use. */
export type CrmEntity = 'deal' | 'lead' | 'contact' | 'company' | 'item';

/** Fields of one CRM record as returned by `crm.*.get` (`crm.item.*` uses camelCase keys). */
export type CrmFields = Record<string, unknown>;

/** The CRM records behind one message, as gathered by the caller. */
export interface CrmDocument {
  /**
   * The entity the document itself is (a robot on a deal: `deal`); its fields are also
   * exposed without prefix (`#TITLE#`, `#NAME#`). Default: the first present of deal, lead,
   * contact, company, item.
   */
  entity?: CrmEntity;
  deal?: CrmFields;
  lead?: CrmFields;
  contact?: CrmFields;
  company?: CrmFields;
  item?: CrmFields;
}

const ENTITIES: readonly CrmEntity[] = ['deal', 'lead', 'contact', 'company', 'item'];

/**
 * Turns CRM records into template values: `<ENTITY>_<FIELD>` for every scalar field of every
 * record given (`CONTACT_NAME`, `DEAL_TITLE`, `DEAL_UF_CRM_123`, `ITEM_UF_CRM_5_123`…), and
 * the document's own fields without prefix. Multifields (PHONE, EMAIL…) give their first
 * VALUE, lists of scalars are joined with ", ", booleans become Y/N, `OPPORTUNITY` is
 * formatted as money in the record's `CURRENCY_ID`, and money user fields (`"150|BYN"`) are
 * formatted too. Fields present but empty are kept as null, so rendering reports them as
 * empty rather than unknown.
 */
export function buildTemplateValues(doc: CrmDocument): TemplateValues {
  const values: TemplateValues = {};
  const own = doc.entity ?? ENTITIES.find((e) => doc[e] !== undefined);
  for (const entity of ENTITIES) {
    const record = doc[entity];
    if (!record) continue;
    const fields = flattenRecord(record);
    const prefix = entity.toUpperCase();
    for (const [key, value] of Object.entries(fields)) values[`${prefix}_${key}`] = value;
    if (entity === own) Object.assign(values, fields);
  }
  return values;
}

function flattenRecord(record: CrmFields): TemplateValues {
  const fields: TemplateValues = {};
  for (const [rawKey, raw] of Object.entries(record)) {
    const value = scalarText(raw);
    if (value === SKIP) continue;
    fields[fieldKey(rawKey)] = value;
  }
  const currency = typeof fields.CURRENCY_ID === 'string' ? fields.CURRENCY_ID : undefined;
  const opportunity = fields.OPPORTUNITY;
  if (typeof opportunity === 'string' && opportunity.trim() !== '') {
    fields.OPPORTUNITY = formatMoneyBYN(opportunity, currency ?? 'BYN');
  }
  return fields;
}

const SKIP = Symbol('skip');
const MONEY_FIELD = /^-?\d+(?:\.\d+)?\|[A-Z]{3}$/;

function scalarText(raw: unknown): string | null | typeof SKIP {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string') return MONEY_FIELD.test(raw) ? formatMoneyBYN(raw) : raw;
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : null;
  if (typeof raw === 'boolean') return raw ? 'Y' : 'N';
  if (Array.isArray(raw)) {
    if (raw.length === 0) return null;
    // Multifield: [{ID, VALUE, VALUE_TYPE, TYPE_ID}] (crm.item.* spells it `value`).
    const first: unknown = raw[0];
    if (first !== null && typeof first === 'object') {
      const v =
        (first as Record<string, unknown>).VALUE ?? (first as Record<string, unknown>).value;
      const text = scalarText(v);
      return text === SKIP ? null : text;
    }
    const items = raw.map(scalarText).filter((t): t is string => typeof t === 'string' && t !== '');
    return items.length === 0 ? null : items.join(', ');
  }
  return SKIP;
}

/**
 * Field name as a placeholder part: `TITLE` stays, camelCase from `crm.item.*` becomes
 * UPPER_SNAKE (`currencyId` → `CURRENCY_ID`, `ufCrm5_1699` → `UF_CRM_5_1699`).
 */
function fieldKey(name: string): string {
  if (/^[A-Z0-9_]+$/.test(name)) return name;
  const uf = /^ufCrm(\d*)_?(.*)$/.exec(name);
  if (uf) return ['UF_CRM', uf[1], uf[2]].filter(Boolean).join('_').toUpperCase();
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toUpperCase();
}
