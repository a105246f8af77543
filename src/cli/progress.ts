/** Where progress goes: stderr, or a test's stand-in. */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** `done` of `total` (undefined: unknown) units so far. */
  update(done: number, total: number | undefined): void;
  /** The last line, completed. */
  finish(): void;
}

function duration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Progress on stderr: on a terminal, one redrawn line with a bar, the rate and an ETA;
 * elsewhere (a log file, a pipe), a plain line every `intervalMs`. Never on stdout.
 */
export function makeProgress(
  stream: ProgressStream,
  label: string,
  unit: string,
  opts: { intervalMs?: number; now?: () => number } = {},
): Progress {
  const now = opts.now ?? Date.now;
  const tty = Boolean(stream.isTTY);
  const interval = opts.intervalMs ?? (tty ? 100 : 5_000);
  const started = now();
  let lastDraw = 0;
  let drawn = -1;
  let last: { done: number; total: number | undefined } = { done: 0, total: undefined };

  const line = (done: number, total: number | undefined): string => {
    const sec = (now() - started) / 1000;
    const rate = sec > 0 ? done / sec : 0;
    const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : undefined;
    const eta = total && rate > 0 ? duration((total - done) / rate) : '?';
    const counts = total !== undefined ? `${done}/${total} ${unit}` : `${done} ${unit}`;
    if (!tty)
      return `${label}: ${counts}${pct !== undefined ? ` (${pct}%)` : ''}, ${Math.round(rate)} ${unit}/s, ETA ${eta}\n`;
    const width = 24;
    const filled = pct !== undefined ? Math.round((pct / 100) * width) : 0;
    const bar =
      pct !== undefined
        ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% `
        : '';
    return `\r${label} ${bar}${counts}  ${Math.round(rate)} ${unit}/s  ETA ${eta}\u001b[K`;
  };

  return {
    update(done, total) {
      last = { done, total };
      const t = now();
      if (t - lastDraw < interval) return;
      lastDraw = t;
      drawn = done;
      stream.write(line(done, total));
    },
    finish() {
      // A plain line already printed for the last count is not printed twice.
      if (tty || drawn !== last.done) stream.write(line(last.done, last.total));
      if (tty) stream.write('\n');
    },
  };
}
