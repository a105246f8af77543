import { parse as parseCsv } from 'csv-parse/sync';
import { fetchPagesBatched } from '../../bitrix24/list.js';
import { patience } from '../../bitrix24/patience.js';
import type { Bitrix24Api } from '../../bitrix24/types.js';
import { registryConsent } from '../../consent/index.js';
import { normalizePhone } from '../../domain/phone.js';
import { checkText } from '../../domain/segments.js';
import { buildTemplateValues, renderTemplate, type TemplateValues } from '../../domain/template.js';
import {
  type Connection,
  EXCLUSION_REASONS,
  type ExcludedCounts,
  type NewRecipient,
} from '../../store/index.js';
import { pickMobilePhone } from '../crmDocument.js';

/** Where a campaign's audience comes from (SPEC §6 `campaign create`). */
export type AudienceSource =
  | {
      kind: 'crm';
      entity: 'contact' | 'lead';
      /** A `crm.<entity>.list` filter, e.g. `{"TYPE_ID": "CLIENT"}`. */
      filter?: Record<string, unknown>;
    }
  | {
      kind: 'csv';
      /** The file's text (UTF-8; `,` or `;` separated; a `phone` column). */
      text: string;
      name: string;
    };

export interface AudienceDeps {
  conn: Connection;
  api: Bitrix24Api;
  /** CONSENT_FIELD. */
  consentField: string;
  /** SMS_MAX_PARTS. */
  maxParts: number;
  /** Progress (records read so far), for the command's progress line. */
  onProgress?: (read: number) => void;
}

export interface Audience {
  recipients: NewRecipient[];
  eligible: number;
  excluded: ExcludedCounts;
  /** SMS parts over the eligible recipients. */
  parts: number;
}

/** One candidate before the checks: who, which phone values, which template values. */
interface Candidate {
  entityType: string | null;
  entityId: number | null;
  phone: { ok: true; phone: string; raw: string } | { ok: false; raw: string | null; why: string };
  values: TemplateValues;
}

/** CSV headers are matched case-insensitively; `#COLUMN#` placeholders use them upper-cased. */
function csvCandidates(text: string): Candidate[] {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  // Excel in Russian locales saves CSV with `;`.
  const delimiter =
    (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(body, {
      columns: (header: string[]) => header.map((h) => h.trim().toUpperCase()),
      delimiter,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
    });
  } catch (err) {
    throw new AudienceError(`the CSV file cannot be read: ${(err as Error).message}`);
  }
  if (rows.length > 0 && !Object.hasOwn(rows[0] as object, 'PHONE')) {
    throw new AudienceError(
      `the CSV file has no "phone" column (columns: ${Object.keys(rows[0] as object).join(', ')})`,
    );
  }
  return rows.map((row) => {
    const raw = (row.PHONE ?? '').trim();
    const n = normalizePhone(raw);
    return {
      entityType: null,
      entityId: null,
      phone: n.ok ? { ok: true, phone: n.phone, raw } : { ok: false, raw, why: n.message },
      values: Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v])),
    };
  });
}

/** Fields every CRM candidate is read with: all standard and user fields, and the phones. */
const CRM_SELECT = ['*', 'UF_*', 'PHONE'];

async function crmCandidates(
  deps: AudienceDeps,
  portalId: string,
  source: Extract<AudienceSource, { kind: 'crm' }>,
): Promise<Candidate[]> {
  const out: Candidate[] = [];
  // 2,500 records per request, limits waited out (the portal's 2 req/s budget).
  for await (const page of fetchPagesBatched(deps.api, portalId, `crm.${source.entity}.list`, {
    ...(source.filter ? { filter: source.filter } : {}),
    select: CRM_SELECT,
    run: patience(),
  })) {
    for (const record of page) {
      const doc = { entity: source.entity, [source.entity]: record };
      const picked = pickMobilePhone(doc);
      out.push({
        entityType: source.entity,
        entityId: Number(record.ID),
        phone: picked.ok
          ? { ok: true, phone: picked.phone, raw: picked.phone }
          : { ok: false, raw: null, why: picked.reason },
        values: buildTemplateValues(doc),
      });
    }
    deps.onProgress?.(out.length);
  }
  return out;
}

export class AudienceError extends Error {}

/**
 * Computes a campaign's audience. Every candidate is kept, eligible or excluded with one
 * reason, checked in this order: `invalid_phone` (no valid Belarus mobile), `duplicate` (the
 * number is already in the audience), `opted_out` (the opt-out list), `no_consent` (the
 * consent registry — kept in step with the CRM by the caller — has an explicit "no" on any
 * record with the number, or no "yes" at all), `template_error` (an unknown or empty
 * placeholder, or a text longer than SMS_MAX_PARTS).
 */
export async function buildAudience(
  deps: AudienceDeps,
  portalId: string,
  template: string,
  source: AudienceSource,
): Promise<Audience> {
  const candidates =
    source.kind === 'csv'
      ? csvCandidates(source.text)
      : await crmCandidates(deps, portalId, source);
  const excluded = Object.fromEntries(EXCLUSION_REASONS.map((r) => [r, 0])) as ExcludedCounts;
  const seen = new Set<string>();
  const recipients: NewRecipient[] = [];
  let parts = 0;
  for (const c of candidates) {
    const base = {
      phone: c.phone.ok ? c.phone.phone : null,
      phoneRaw: c.phone.raw,
      entityType: c.entityType,
      entityId: c.entityId,
      text: null,
      parts: 0,
    };
    const exclude = (reason: NewRecipient['excluded'] & string, detail: string) => {
      excluded[reason]++;
      recipients.push({ ...base, excluded: reason, detail });
    };
    if (!c.phone.ok) {
      exclude('invalid_phone', c.phone.why);
      continue;
    }
    const phone = c.phone.phone;
    if (seen.has(phone)) {
      exclude('duplicate', `${phone} is already in this campaign`);
      continue;
    }
    seen.add(phone);
    // The registry was synced first: a number it has never seen is on no CRM record.
    const consent = await registryConsent(
      { conn: deps.conn, field: deps.consentField },
      portalId,
      phone,
    );
    if (!consent) {
      exclude('no_consent', 'no marketing consent: no CRM contact or lead has this number');
      continue;
    }
    if (!consent.decision.allowed) {
      exclude(consent.optedOut ? 'opted_out' : 'no_consent', consent.decision.reason);
      continue;
    }
    const rendered = renderTemplate(template, c.values);
    if (!rendered.ok) {
      exclude('template_error', rendered.message);
      continue;
    }
    const check = checkText(rendered.text, deps.maxParts);
    if (!check.ok) {
      exclude('template_error', check.reason);
      continue;
    }
    parts += check.parts;
    recipients.push({
      ...base,
      text: rendered.text,
      parts: check.parts,
      excluded: null,
      detail: null,
    });
  }
  return {
    recipients,
    eligible: recipients.length - Object.values(excluded).reduce((a, b) => a + b, 0),
    excluded,
    parts,
  };
}
