import { badRequest } from '../apiError.js';
import { ENTITY_TYPE } from '../crm.js';
import { keysToUpper, presentClassic, presentItem } from '../crmPresent.js';
import type { UserFieldRecord } from '../state.js';
import {
  type MethodContext,
  type MethodReply,
  type MethodTable,
  objParam,
  type Params,
  param,
  reply,
  strParam,
} from './types.js';

/** `ENTITY_ID` of user fields per CRM type (`CRM_CONTACT`…; smart processes `CRM_<id>`). */
export function userFieldEntityId(entityTypeId: number): string {
  const name = Object.entries(ENTITY_TYPE).find(([, id]) => id === entityTypeId)?.[0];
  return name ? `CRM_${name}` : `CRM_${entityTypeId}`;
}

function userFieldsOf(ctx: MethodContext, entityTypeId: number): { name: string; type: string }[] {
  const entityId = userFieldEntityId(entityTypeId);
  return ctx.state.userFields
    .filter((f) => f.ENTITY_ID === entityId)
    .map((f) => ({ name: f.FIELD_NAME, type: f.USER_TYPE_ID }));
}

function idParam(params: Params): number {
  const id = Number(strParam(params, 'id'));
  if (!Number.isInteger(id) || id <= 0) throw badRequest('', 'ID is not defined or invalid.');
  return id;
}

function startParam(params: Params): number {
  const start = Number(strParam(params, 'start') || 0);
  return Number.isFinite(start) ? start : 0;
}

function selectParam(params: Params): string[] | undefined {
  const v = param(params, 'select');
  if (Array.isArray(v)) return v.map(String);
  if (v && typeof v === 'object') return Object.values(v).map(String);
  return undefined;
}

/** `crm.<entity>.add|update|get|list` with the classic upper-case representation. */
function classicMethods(entity: string, entityTypeId: number): MethodTable {
  return {
    [`crm.${entity}.add`]: (params, ctx) =>
      reply(ctx.crm.add(entityTypeId, objParam(params, 'fields'))),
    [`crm.${entity}.update`]: (params, ctx) => {
      if (!ctx.crm.update(entityTypeId, idParam(params), objParam(params, 'fields'))) {
        throw badRequest('', 'Not found');
      }
      return reply(true);
    },
    [`crm.${entity}.get`]: (params, ctx) => {
      const rec = ctx.crm.get(entityTypeId, idParam(params));
      if (!rec) throw badRequest('', 'Not found');
      return reply(presentClassic(rec, 'all', userFieldsOf(ctx, entityTypeId)));
    },
    [`crm.${entity}.list`]: (params, ctx): MethodReply => {
      const page = ctx.crm.list(entityTypeId, {
        filter: objParam(params, 'filter'),
        order: objParam(params, 'order'),
        start: startParam(params),
      });
      const select = selectParam(params) ?? [];
      const fields = userFieldsOf(ctx, entityTypeId);
      return {
        result: page.records.map((r) => presentClassic(r, select, fields)),
        // With start=-1 the portal skips the count; huge-data.md shows `total: 0` then.
        total: page.total ?? 0,
        ...(page.next !== undefined ? { next: page.next } : {}),
      };
    },
    [`crm.${entity}.userfield.add`]: (params, ctx) =>
      reply(addUserField(ctx, entityTypeId, objParam(params, 'fields'))),
    [`crm.${entity}.userfield.list`]: (params, ctx) => {
      const filter = objParam(params, 'filter');
      const entityId = userFieldEntityId(entityTypeId);
      return reply(
        ctx.state.userFields.filter(
          (f) =>
            f.ENTITY_ID === entityId &&
            Object.entries(filter).every(
              ([k, v]) => String((f as unknown as Record<string, unknown>)[k]) === String(v),
            ),
        ),
      );
    },
  };
}

const FIELD_NAME = /^[A-Z0-9_]+$/;

function addUserField(
  ctx: MethodContext,
  entityTypeId: number,
  fields: Record<string, unknown>,
): number {
  const rawName = typeof fields.FIELD_NAME === 'string' ? fields.FIELD_NAME : '';
  const type = typeof fields.USER_TYPE_ID === 'string' ? fields.USER_TYPE_ID : '';
  // The docs' errors come with an empty `error` and the text in `error_description`.
  if (!rawName) throw badRequest('', "The 'FIELD_NAME' field is not found.");
  if (!type) throw badRequest('', "The 'USER_TYPE_ID' field is not found.");
  if (!FIELD_NAME.test(rawName)) {
    throw badRequest(
      '',
      'Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _',
    );
  }
  const name = rawName.startsWith('UF_CRM_') ? rawName : `UF_CRM_${rawName}`;
  if (name.length > 50) throw badRequest('', 'Field name is too long (more than 50 characters)');
  const entityId = userFieldEntityId(entityTypeId);
  if (ctx.state.userFields.some((f) => f.ENTITY_ID === entityId && f.FIELD_NAME === name)) {
    throw badRequest('', `A user field with code ${name} already exists.`);
  }
  const yn = (v: unknown, dflt: 'Y' | 'N') => (v === 'Y' || v === 'N' ? v : dflt);
  const record: UserFieldRecord = {
    ID: String(ctx.state.nextUserFieldId()),
    ENTITY_ID: entityId,
    FIELD_NAME: name,
    USER_TYPE_ID: type,
    XML_ID: typeof fields.XML_ID === 'string' ? fields.XML_ID : null,
    SORT: String(fields.SORT ?? 100),
    MULTIPLE: type === 'boolean' ? 'N' : yn(fields.MULTIPLE, 'N'),
    MANDATORY: yn(fields.MANDATORY, 'N'),
    SHOW_FILTER: yn(fields.SHOW_FILTER, 'N'),
    SHOW_IN_LIST: yn(fields.SHOW_IN_LIST, 'N'),
    EDIT_IN_LIST: yn(fields.EDIT_IN_LIST, 'Y'),
    IS_SEARCHABLE: yn(fields.IS_SEARCHABLE, 'N'),
    SETTINGS:
      fields.SETTINGS && typeof fields.SETTINGS === 'object'
        ? (fields.SETTINGS as Record<string, unknown>)
        : {},
    ...(fields.LABEL !== undefined ? { LABEL: fields.LABEL } : {}),
  };
  ctx.state.userFields.push(record);
  return Number(record.ID);
}

function entityTypeParam(params: Params): number {
  const id = Number(strParam(params, 'entityTypeId'));
  if (!Number.isInteger(id) || id <= 0) throw badRequest('', 'entityTypeId is required');
  return id;
}

const TIMELINE_TYPES: Record<string, number> = {
  lead: ENTITY_TYPE.LEAD,
  deal: ENTITY_TYPE.DEAL,
  contact: ENTITY_TYPE.CONTACT,
  company: ENTITY_TYPE.COMPANY,
};

export const crmMethods: MethodTable = {
  ...classicMethods('contact', ENTITY_TYPE.CONTACT),
  ...classicMethods('lead', ENTITY_TYPE.LEAD),
  ...classicMethods('deal', ENTITY_TYPE.DEAL),
  ...classicMethods('company', ENTITY_TYPE.COMPANY),

  'crm.item.add': (params, ctx) => {
    const typeId = entityTypeParam(params);
    const id = ctx.crm.add(typeId, keysToUpper(objParam(params, 'fields')));
    return reply({
      item: presentItem(ctx.crm.get(typeId, id) ?? {}, undefined, userFieldsOf(ctx, typeId)),
    });
  },
  'crm.item.update': (params, ctx) => {
    const typeId = entityTypeParam(params);
    const id = idParam(params);
    if (!ctx.crm.update(typeId, id, keysToUpper(objParam(params, 'fields'))))
      throw badRequest('NOT_FOUND', 'Element not found');
    return reply({
      item: presentItem(ctx.crm.get(typeId, id) ?? {}, undefined, userFieldsOf(ctx, typeId)),
    });
  },
  'crm.item.get': (params, ctx) => {
    const typeId = entityTypeParam(params);
    const rec = ctx.crm.get(typeId, idParam(params));
    if (!rec) throw badRequest('NOT_FOUND', 'Element not found');
    return reply({ item: presentItem(rec, undefined, userFieldsOf(ctx, typeId)) });
  },
  'crm.item.list': (params, ctx): MethodReply => {
    const typeId = entityTypeParam(params);
    const page = ctx.crm.list(typeId, {
      filter: keysToUpper(objParam(params, 'filter')),
      order: keysToUpper(objParam(params, 'order')),
      start: startParam(params),
    });
    const select = selectParam(params);
    const fields = userFieldsOf(ctx, typeId);
    return {
      result: { items: page.records.map((r) => presentItem(r, select, fields)) },
      total: page.total ?? 0,
      ...(page.next !== undefined ? { next: page.next } : {}),
    };
  },

  'crm.duplicate.findbycomm': (params, ctx) => {
    const type = strParam(params, 'type').toUpperCase();
    if (!type) throw badRequest('', 'Communication type is not defined');
    if (type !== 'PHONE' && type !== 'EMAIL') {
      throw badRequest('', `Communication type '${type}' is not supported in current context`);
    }
    const raw = param(params, 'values');
    const values = (
      Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? Object.values(raw) : []
    ).map(String);
    if (values.length === 0) throw badRequest('', 'Communication values is not defined');
    // Proposed: the docs cap `values` at 20 without naming the error.
    if (values.length > 20) throw badRequest('', 'Too many communication values (max 20)');
    const entity = strParam(params, 'entity_type').toUpperCase();
    const only = entity ? ENTITY_TYPE[entity as keyof typeof ENTITY_TYPE] : undefined;
    if (entity && only === undefined)
      throw badRequest('', `Entity type '${entity}' is not supported in current context`);
    const found = ctx.crm.findByComm(type, values, only);
    // PHP answers an empty array, not an empty object, when nothing matched.
    return reply(Object.keys(found).length > 0 ? found : []);
  },

  'crm.timeline.logmessage.add': (params, ctx) => {
    const fields = objParam(params, 'fields');
    const entityTypeId = Number(fields.entityTypeId);
    const entityId = Number(fields.entityId);
    const title = typeof fields.title === 'string' ? fields.title : '';
    const text = typeof fields.text === 'string' ? fields.text : '';
    if (!Number.isInteger(entityTypeId) || entityTypeId <= 0)
      throw badRequest('', 'entityTypeId is not defined or invalid.');
    if (!Number.isInteger(entityId) || entityId <= 0)
      throw badRequest('', 'entityId is not defined or invalid.');
    if (!title || !text) throw badRequest('', 'title and text are required.');
    if (!ctx.crm.get(entityTypeId, entityId)) throw badRequest('', 'Not found');
    const id = ctx.state.nextTimelineId();
    ctx.state.timelineLogs.push({
      ID: id,
      entityTypeId,
      entityId,
      title,
      text,
      at: ctx.clock.now(),
    });
    return reply({ logMessage: { id } });
  },

  'crm.timeline.comment.add': (params, ctx) => {
    const fields = objParam(params, 'fields');
    const entityType = String(fields.ENTITY_TYPE ?? '').toLowerCase();
    const entityId = Number(fields.ENTITY_ID);
    const comment = typeof fields.COMMENT === 'string' ? fields.COMMENT : '';
    const typeId = TIMELINE_TYPES[entityType];
    if (!typeId) throw badRequest('', 'ENTITY_TYPE is not defined or invalid.');
    if (!Number.isInteger(entityId) || entityId <= 0)
      throw badRequest('', 'ENTITY_ID is not defined or invalid.');
    if (!comment) throw badRequest('', 'COMMENT is not defined or empty.');
    if (!ctx.crm.get(typeId, entityId)) throw badRequest('', 'Not found');
    const id = ctx.state.nextTimelineId();
    ctx.state.timelineComments.push({
      ID: id,
      ENTITY_ID: entityId,
      ENTITY_TYPE: entityType,
      COMMENT: comment,
      at: ctx.clock.now(),
    });
    return reply(id);
  },
};
