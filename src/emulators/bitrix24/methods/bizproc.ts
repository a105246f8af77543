import { badRequest } from '../apiError.js';
import type { RobotRecord } from '../state.js';
import { CODE_PATTERN } from './messageservice.js';
import { type MethodTable, objParam, type Params, param, reply, strParam } from './types.js';

const VALIDATION = 'ERROR_ACTIVITY_VALIDATION_FAILURE';
const PROPERTY_KEY = /^[a-zA-Z][a-zA-Z0-9_]*$/;

function checkHandler(handler: string): void {
  if (!handler) throw badRequest('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
  let url: URL;
  try {
    url = new URL(handler);
  } catch {
    throw badRequest('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest('ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported handler protocol');
  }
}

function checkProperties(value: unknown): void {
  if (value === undefined) return;
  if (!value || typeof value !== 'object') throw badRequest(VALIDATION, 'Wrong properties array!');
  for (const [key, prop] of Object.entries(value)) {
    if (!PROPERTY_KEY.test(key)) throw badRequest(VALIDATION, `Wrong property key ${key}!`);
    if (!prop || typeof prop !== 'object' || !(prop as { Name?: unknown }).Name) {
      throw badRequest(VALIDATION, `Empty property NAME ${key}!`);
    }
  }
}

/** Copies the robot fields Bitrix24 stores from `params` onto `robot`. */
function applyFields(robot: RobotRecord, fields: Params): void {
  const pick = (name: keyof RobotRecord) => {
    const v = param(fields, name);
    if (v !== undefined) (robot as unknown as Record<string, unknown>)[name] = v;
  };
  for (const name of [
    'HANDLER',
    'NAME',
    'DESCRIPTION',
    'AUTH_USER_ID',
    'USE_SUBSCRIPTION',
    'PROPERTIES',
    'RETURN_PROPERTIES',
    'DOCUMENT_TYPE',
    'FILTER',
    'USE_PLACEMENT',
  ] as const) {
    pick(name);
  }
}

/** `bizproc.robot.*` and `bizproc.event.send`, with the error codes of the docs. */
export const bizprocMethods: MethodTable = {
  'bizproc.robot.add': (params, ctx) => {
    if (Object.keys(params).length === 0) throw badRequest(VALIDATION, 'Empty data!');
    const code = strParam(params, 'CODE');
    if (!code) throw badRequest(VALIDATION, 'Empty activity code!');
    if (!CODE_PATTERN.test(code)) throw badRequest(VALIDATION, 'Wrong activity code!');
    checkHandler(strParam(params, 'HANDLER'));
    if (!param(params, 'NAME')) throw badRequest(VALIDATION, 'Empty activity NAME!');
    checkProperties(param(params, 'PROPERTIES'));
    checkProperties(param(params, 'RETURN_PROPERTIES'));
    if (ctx.state.robots.has(code)) {
      throw badRequest(
        'ERROR_ACTIVITY_ALREADY_INSTALLED',
        'Activity or Automation rule already installed!',
      );
    }
    const robot: RobotRecord = { CODE: code, HANDLER: '', NAME: '' };
    applyFields(robot, params);
    ctx.state.robots.set(code, robot);
    return reply(true);
  },

  'bizproc.robot.update': (params, ctx) => {
    const code = strParam(params, 'CODE');
    if (!code) throw badRequest(VALIDATION, 'Empty activity code!');
    if (!CODE_PATTERN.test(code)) throw badRequest(VALIDATION, 'Wrong activity code!');
    const robot = ctx.state.robots.get(code);
    if (!robot) throw badRequest('ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!');
    const fields = objParam(params, 'FIELDS');
    if (Object.keys(fields).length === 0) throw badRequest(VALIDATION, 'No fields to update');
    if (fields.HANDLER !== undefined) checkHandler(String(fields.HANDLER));
    checkProperties(fields.PROPERTIES);
    checkProperties(fields.RETURN_PROPERTIES);
    applyFields(robot, fields);
    return reply(true);
  },

  'bizproc.robot.delete': (params, ctx) => {
    const code = strParam(params, 'CODE');
    if (!code) throw badRequest(VALIDATION, 'Empty activity code!');
    if (!ctx.state.robots.delete(code))
      throw badRequest('ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!');
    return reply(true);
  },

  'bizproc.robot.list': (_params, ctx) => reply([...ctx.state.robots.keys()]),

  'bizproc.event.send': (params, ctx) => {
    const eventToken = strParam(params, 'EVENT_TOKEN');
    const issued = ctx.state.eventTokens.get(eventToken);
    // Proposed: the docs name no error code for an unknown token.
    if (!eventToken || !issued) throw badRequest('ERROR_EVENT_TOKEN', 'Event token is not valid');
    const logMessage = strParam(params, 'LOG_MESSAGE');
    ctx.state.bizprocEvents.push({
      eventToken,
      returnValues: objParam(params, 'RETURN_VALUES'),
      ...(logMessage ? { logMessage } : {}),
      code: issued.code,
      documentId: issued.documentId,
      at: ctx.clock.now(),
    });
    return reply(true);
  },
};
