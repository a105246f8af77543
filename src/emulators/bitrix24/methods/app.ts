import { badRequest } from '../apiError.js';
import { type MethodTable, reply } from './types.js';

/** `app.info`: what the portal says about the calling application (a local app here). */
export const appMethods: MethodTable = {
  'app.info': (_params, ctx) =>
    reply({
      ID: 1,
      CODE: ctx.clientId,
      VERSION: 1,
      STATUS: 'L',
      INSTALLED: true,
      PAYMENT_EXPIRED: 'N',
      DAYS: null,
      LANGUAGE_ID: ctx.language,
      LICENSE: 'by_project',
      LICENSE_TYPE: 'project',
      LICENSE_FAMILY: 'project',
    }),
  /** `profile` (scope basic): who the token belongs to, and whether they administer the portal. */
  profile: (_params, ctx) => {
    const user = ctx.state.users.get(ctx.userId);
    if (!user) throw badRequest('', 'User not found');
    return reply({ ...user, PERSONAL_GENDER: '', TIME_ZONE: '' });
  },
};
