import { badRequest } from '../apiError.js';
import { type MethodTable, reply } from './types.js';

/** `event.bind` / `event.get` / `event.unbind` for the app's event handlers (online events). */
export const eventMethods: MethodTable = {
  'event.bind': (params, ctx) => {
    const event = String(params.event ?? params.EVENT ?? '').toUpperCase();
    const handler = String(params.handler ?? params.HANDLER ?? '');
    if (!event) throw badRequest('ERROR_EVENT_NOT_FOUND', 'Event not found');
    if (!/^https?:\/\//.test(handler)) throw badRequest('ERROR_HANDLER_URL', 'Wrong handler URL');
    const set = ctx.state.eventHandlers.get(event) ?? new Set<string>();
    if (set.has(handler)) throw badRequest('', 'Handler already binded');
    set.add(handler);
    ctx.state.eventHandlers.set(event, set);
    return reply(true);
  },
  'event.unbind': (params, ctx) => {
    const event = String(params.event ?? params.EVENT ?? '').toUpperCase();
    const handler = String(params.handler ?? params.HANDLER ?? '');
    const set = ctx.state.eventHandlers.get(event);
    const count = set?.delete(handler) ? 1 : 0;
    return reply({ count });
  },
  'event.get': (_params, ctx) =>
    reply(
      [...ctx.state.eventHandlers].flatMap(([event, handlers]) =>
        [...handlers].map((handler) => ({ event, handler, auth_type: '0', offline: 0 })),
      ),
    ),
};
