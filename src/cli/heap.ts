/**
 * The old generation's growth between full collections, set for every command before anything
 * else runs (the first import of cli/index.ts); V8 reads it at each collection.
 *
 * V8 lets the old generation grow to about twice its live data before a full collection. A
 * service sending 100 SMS a second promotes ~1 MiB/s of short-lived objects (requests waiting
 * for their rate slot), and its heap swung between 45 and 90 MiB, the process's RSS with it.
 * Growing by 10 % keeps the heap within a few MiB of its live data (~29 MiB, most of it the
 * loaded code), for more frequent, mostly concurrent collections: bench:campaign's service
 * stayed ~10 MiB lower than at 20 %, at the same CPU time within noise. The young generation's
 * size, the other half of the memory budget, is fixed when the process starts: `npm start`
 * passes `--max-semi-space-size=1` (README: the `serve` command, and "Figures" for what each
 * setting saved); it applies to the departure thread too.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 10;
setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
