import type { Bitrix24Api } from '../bitrix24/types.js';
import { normalizePhone } from '../domain/phone.js';
import type { CrmDocument, CrmEntity, CrmFields } from '../domain/template.js';
import { ValidationError } from '../errors.js';

/** What a bizproc document id names: `DEAL_5`, `LEAD_3`, `CONTACT_7`, `COMPANY_2`, `DYNAMIC_128_5`. */
export interface DocumentRef {
  entity: CrmEntity;
  id: number;
  /** Smart-process type id (entity `item`). */
  entityTypeId?: number;
}

export function parseDocumentId(documentId: string[]): DocumentRef {
  const raw = documentId[2] ?? '';
  let m = /^(DEAL|LEAD|CONTACT|COMPANY)_(\d+)$/.exec(raw);
  if (m) return { entity: (m[1] as string).toLowerCase() as CrmEntity, id: Number(m[2]) };
  m = /^DYNAMIC_(\d+)_(\d+)$/.exec(raw);
  if (m) return { entity: 'item', entityTypeId: Number(m[1]), id: Number(m[2]) };
  throw new ValidationError(
    `the robot runs on a document this app does not handle: ${JSON.stringify(documentId)}`,
    'ROBOT_DOCUMENT',
  );
}

/**
 * Loads the robot's CRM document and the records around it (a deal's contact and company, a
 * lead's contact…) — one REST call per record, through the portal's bucket.
 */
export async function loadCrmDocument(
  api: Pick<Bitrix24Api, 'call'>,
  portalId: string,
  ref: DocumentRef,
): Promise<CrmDocument> {
  const get = (method: string, id: unknown) =>
    api.call<CrmFields>(portalId, method, { id: Number(id) });
  const doc: CrmDocument = { entity: ref.entity };
  if (ref.entity === 'item') {
    const r = await api.call<{ item: CrmFields }>(portalId, 'crm.item.get', {
      entityTypeId: ref.entityTypeId,
      id: ref.id,
    });
    doc.item = r.item;
    const contactId = r.item.contactId ?? r.item.CONTACT_ID;
    const companyId = r.item.companyId ?? r.item.COMPANY_ID;
    if (Number(contactId) > 0) doc.contact = await get('crm.contact.get', contactId);
    if (Number(companyId) > 0) doc.company = await get('crm.company.get', companyId);
    return doc;
  }
  const own = await get(`crm.${ref.entity}.get`, ref.id);
  doc[ref.entity] = own;
  if (ref.entity !== 'contact' && Number(own.CONTACT_ID) > 0)
    doc.contact = await get('crm.contact.get', own.CONTACT_ID);
  if ((ref.entity === 'deal' || ref.entity === 'contact') && Number(own.COMPANY_ID) > 0)
    doc.company = await get('crm.company.get', own.COMPANY_ID);
  return doc;
}

interface PhoneValue {
  VALUE?: unknown;
  VALUE_TYPE?: unknown;
}

function phonesOf(record: CrmFields | undefined): PhoneValue[] {
  if (!record) return [];
  const raw = record.PHONE ?? record.phone ?? record.fm;
  return Array.isArray(raw) ? (raw as PhoneValue[]) : [];
}

/**
 * The recipient's mobile number: the document's own person first (a lead's or contact's
 * phone), then the related contact, then the company; MOBILE-typed values first. Returns the
 * normalized number, or a reason naming what was found.
 */
export function pickMobilePhone(
  doc: CrmDocument,
): { ok: true; phone: string } | { ok: false; reason: string } {
  const order: (CrmFields | undefined)[] =
    doc.entity === 'lead'
      ? [doc.lead, doc.contact]
      : doc.entity === 'contact'
        ? [doc.contact]
        : [doc.contact, doc.lead, doc.company, doc.item];
  const seen: string[] = [];
  for (const record of order) {
    const values = phonesOf(record).sort(
      (a, b) => Number(b.VALUE_TYPE === 'MOBILE') - Number(a.VALUE_TYPE === 'MOBILE'),
    );
    for (const v of values) {
      const raw = String(v.VALUE ?? '').trim();
      if (!raw) continue;
      const n = normalizePhone(raw);
      if (n.ok) return { ok: true, phone: n.phone };
      seen.push(`${raw} (${n.reason.replace('invalid: ', '')})`);
    }
  }
  return {
    ok: false,
    reason: seen.length
      ? `no mobile phone in the CRM record: ${seen.join(', ')}`
      : 'no phone number in the CRM record (or its contact)',
  };
}

/**
 * Every mobile number of the document's people — its own (a lead's, a contact's), its contact's
 * and its company's — normalized, each once: whom an SMS about this record may have gone to
 * (a CRM card tab lists the messages to these numbers).
 */
export function mobilePhones(doc: CrmDocument): string[] {
  const out = new Set<string>();
  for (const record of [doc.lead, doc.contact, doc.company, doc.deal, doc.item])
    for (const v of phonesOf(record)) {
      const n = normalizePhone(String(v.VALUE ?? ''));
      if (n.ok) out.add(n.phone);
    }
  return [...out];
}
