/** The bench's result rows and the final table. */

export type Verdict = 'PASS' | 'FAIL' | 'INFO' | 'ERROR';

export interface Row {
  part: string;
  figure: string;
  measured: string;
  target: string;
  verdict: Verdict;
  /** The number compared with the target, for the JSON output. */
  value?: number;
}

export const judge = (pass: boolean): Verdict => (pass ? 'PASS' : 'FAIL');

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

export const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** Progress and details go to stderr; the table goes to stdout. */
export function note(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export function printTable(rows: Row[]): void {
  const head = ['figure', 'measured', 'target', 'result'];
  const cells = rows.map((r) => [r.figure, r.measured, r.target, r.verdict]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(width[i] ?? 0)).join(' | ')} |`;
  const out = [
    line(head),
    `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
  ];
  process.stdout.write(`\n${out.join('\n')}\n`);
}
