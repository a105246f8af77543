import type { EmulatorProcess } from './emulatorProcess.js';
import type { Options } from './options.js';
import type { Row } from './report.js';

/** What every part gets: the shared emulator process and the options. */
export interface BenchContext {
  emu: EmulatorProcess;
  opts: Options;
  /** False when PostgreSQL does not answer (PostgreSQL variants are skipped). */
  pgUp: boolean;
}

/** One selectable part of `npm run bench`: runs, cleans up after itself, returns its rows. */
export interface Part {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<Row[]>;
}
