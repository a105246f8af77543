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
      LANGUAGE_ID: 'ru',
      LICENSE: 'by_project',
      LICENSE_TYPE: 'project',
      LICENSE_FAMILY: 'project',
    }),
};
