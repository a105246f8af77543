import { appMethods } from './app.js';
import { bizprocMethods } from './bizproc.js';
import { crmMethods } from './crm.js';
import { eventMethods } from './events.js';
import { imMethods } from './im.js';
import { messageserviceMethods } from './messageservice.js';
import { placementMethods } from './placement.js';
import type { MethodTable } from './types.js';

/** Every REST method the emulator implements except `batch` (which rest.ts runs itself). */
export const allMethods: MethodTable = {
  ...appMethods,
  ...messageserviceMethods,
  ...bizprocMethods,
  ...crmMethods,
  ...eventMethods,
  ...imMethods,
  ...placementMethods,
};
