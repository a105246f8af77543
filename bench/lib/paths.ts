import { resolve } from 'node:path';

/** The repository root: children run from here, as `npm run` would. */
export const ROOT = resolve(import.meta.dirname, '../..');
