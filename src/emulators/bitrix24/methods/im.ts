import { badRequest } from '../apiError.js';
import { type MethodTable, reply, strParam } from './types.js';

/** `im.notify.system.add` (`chats/notifications/im-notify-system-add.md`), with its errors. */
export const imMethods: MethodTable = {
  'im.notify.system.add': (params, ctx) => {
    const userId = Number(strParam(params, 'USER_ID'));
    if (!Number.isInteger(userId) || userId <= 0)
      throw badRequest('USER_ID_EMPTY', "User ID can't be empty");
    const message = strParam(params, 'MESSAGE').trim();
    if (!message) throw badRequest('MESSAGE_EMPTY', "Message can't be empty");
    // Proposed: the docs list no error for an unknown user; the portal makes no notification.
    if (!ctx.state.users.has(userId)) return reply(false);
    const tag = strParam(params, 'TAG');
    const id = ctx.state.addNotification({
      USER_ID: userId,
      MESSAGE: message,
      ...(strParam(params, 'MESSAGE_OUT') ? { MESSAGE_OUT: strParam(params, 'MESSAGE_OUT') } : {}),
      ...(tag ? { TAG: tag } : {}),
      ...(strParam(params, 'SUB_TAG') ? { SUB_TAG: strParam(params, 'SUB_TAG') } : {}),
      at: ctx.clock.now(),
    });
    return reply(id);
  },
};
