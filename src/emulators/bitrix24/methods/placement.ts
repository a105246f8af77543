import { badRequest } from '../apiError.js';
import type { PlacementRecord } from '../state.js';
import { type MethodTable, param, reply, strParam } from './types.js';

/**
 * `placement.bind` / `placement.unbind` / `placement.get` (docs: `widgets/placement-bind.md`,
 * `placement-unbind.md`, `placement-get.md`): the app's widgets, e.g. a tab in the CRM card.
 * Binding the same placement and handler twice is refused as Bitrix24 does ("Handler already
 * binded").
 */
export const placementMethods: MethodTable = {
  'placement.bind': (params, ctx) => {
    const placement = strParam(params, 'PLACEMENT');
    if (!placement) throw badRequest('ERROR_ARGUMENT', "Argument 'PLACEMENT' is null or empty");
    const handler = strParam(params, 'HANDLER');
    if (!handler) throw badRequest('ERROR_ARGUMENT', "Argument 'HANDLER' is null or empty");
    if (!/^https?:\/\//.test(handler)) throw badRequest('ERROR_ARGUMENT', 'Wrong handler URL');
    const key = `${placement}|${handler}`;
    if (ctx.state.placements.has(key)) throw badRequest('ERROR_CORE', 'Handler already binded');
    const record: PlacementRecord = { placement, handler };
    const title = param(params, 'TITLE');
    if (title !== undefined) record.title = title;
    const langAll = param(params, 'LANG_ALL');
    if (langAll !== undefined) record.langAll = langAll;
    ctx.state.placements.set(key, record);
    return reply(true);
  },
  'placement.unbind': (params, ctx) => {
    const placement = strParam(params, 'PLACEMENT');
    if (!placement) throw badRequest('ERROR_ARGUMENT', "Argument 'PLACEMENT' is null or empty");
    const handler = strParam(params, 'HANDLER');
    let count = 0;
    for (const [key, r] of ctx.state.placements)
      if (r.placement === placement && (!handler || r.handler === handler)) {
        ctx.state.placements.delete(key);
        count++;
      }
    return reply({ count });
  },
  'placement.get': (_params, ctx) =>
    reply(
      [...ctx.state.placements.values()].map((r) => ({
        placement: r.placement,
        handler: r.handler,
        title: r.title ?? '',
        description: '',
        options: [],
        langAll: r.langAll ?? {},
      })),
    ),
};
