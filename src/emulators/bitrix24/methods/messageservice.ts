import { badRequest } from '../apiError.js';
import { PortalState, type SenderRecord } from '../state.js';
import { type MethodTable, param, reply, strParam } from './types.js';

/** Allowed characters of provider and robot codes (`messageservice-sender-add.md`). */
export const CODE_PATTERN = /^[a-zA-Z0-9._-]+$/;

/** Delivery statuses `messageservice.message.status.update` accepts. */
export const MESSAGE_STATUSES = new Set(['queued', 'sent', 'delivered', 'undelivered', 'failed']);

const VALIDATION = 'ERROR_SENDER_VALIDATION_FAILURE';

function checkCode(code: string): void {
  if (!code) throw badRequest(VALIDATION, 'Empty sender code!');
  if (!CODE_PATTERN.test(code)) throw badRequest(VALIDATION, 'Wrong sender code!');
}

/** The `messageservice.*` methods, with the error codes and texts of the docs. */
export const messageserviceMethods: MethodTable = {
  'messageservice.sender.add': (params, ctx) => {
    if (Object.keys(params).length === 0) throw badRequest(VALIDATION, 'Empty data!');
    const code = strParam(params, 'CODE');
    checkCode(code);
    const name = param(params, 'NAME');
    if (!name) throw badRequest(VALIDATION, 'Empty sender NAME!');
    const type = strParam(params, 'TYPE');
    if (!type) throw badRequest(VALIDATION, 'Empty sender message TYPE!');
    if (type !== 'SMS') throw badRequest(VALIDATION, 'Unknown sender message TYPE!');
    const handler = strParam(params, 'HANDLER');
    // Not in the docs' table; the portal cannot deliver without a handler.
    if (!/^https?:\/\//.test(handler)) throw badRequest(VALIDATION, 'Empty sender HANDLER!');
    if (ctx.state.senders.has(code))
      throw badRequest('ERROR_SENDER_ALREADY_INSTALLED', 'Sender already installed!');
    const sender: SenderRecord = { CODE: code, TYPE: type, HANDLER: handler, NAME: name };
    const description = param(params, 'DESCRIPTION');
    if (description !== undefined) sender.DESCRIPTION = description;
    ctx.state.senders.set(code, sender);
    return reply(true);
  },

  'messageservice.sender.update': (params, ctx) => {
    const code = strParam(params, 'CODE');
    if (!code) throw badRequest('ERROR_SENDER_CODE_REQUIRED', 'CODE is required!');
    const handler = param(params, 'HANDLER');
    const name = param(params, 'NAME');
    const description = param(params, 'DESCRIPTION');
    if (handler === undefined && name === undefined && description === undefined) {
      throw badRequest(
        'ERROR_SENDER_OTHER_PARAMS_REQUIRED',
        'At least one other parameter is required!',
      );
    }
    const sender = ctx.state.senders.get(code);
    if (!sender) throw badRequest('ERROR_SENDER_NOT_FOUND', 'Sender not found!');
    if (typeof handler === 'string') sender.HANDLER = handler;
    if (name !== undefined) sender.NAME = name;
    if (description !== undefined) sender.DESCRIPTION = description;
    return reply(true);
  },

  'messageservice.sender.delete': (params, ctx) => {
    const code = strParam(params, 'CODE');
    checkCode(code);
    if (!ctx.state.senders.delete(code))
      throw badRequest('ERROR_SENDER_NOT_FOUND', 'Sender not found!');
    return reply(true);
  },

  'messageservice.sender.list': (_params, ctx) => reply([...ctx.state.senders.keys()]),

  'messageservice.message.status.update': (params, ctx) => {
    const code = strParam(params, 'CODE');
    checkCode(code);
    const messageId = strParam(params, 'MESSAGE_ID');
    const status = strParam(params, 'STATUS');
    // The portal looks the message up by provider and id: a message sent through another
    // provider, or never sent, is "not found" (the docs list no "sender not found" here).
    if (!ctx.state.messages.has(PortalState.messageKey(code, messageId))) {
      throw badRequest('ERROR_MESSAGE_NOT_FOUND', 'Message not found!');
    }
    if (!MESSAGE_STATUSES.has(status))
      throw badRequest('ERROR_MESSAGE_STATUS_INCORRECT', 'Message status incorrect!');
    ctx.state.statusUpdates.push({ code, messageId, status, at: ctx.clock.now() });
    return reply(true);
  },
};
