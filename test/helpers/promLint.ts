/**
 * The checks of `promtool check metrics` (Prometheus's own linter), and the naming rules of
 * https://prometheus.io/docs/practices/naming/, over a text exposition: every problem found,
 * one line each, empty when the exposition is clean.
 */
export function lintMetrics(text: string): string[] {
  const problems: string[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: { name: string; labels: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const h = /^# HELP (\S+) ?(.*)$/.exec(line);
    if (h) {
      if (help.has(h[1] as string)) problems.push(`${h[1]}: HELP given twice`);
      help.set(h[1] as string, (h[2] ?? '').trim());
      continue;
    }
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      if (type.has(t[1] as string)) problems.push(`${t[1]}: TYPE given twice`);
      type.set(t[1] as string, t[2] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const s = /^([^\s{]+)(?:\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    if (!s) {
      problems.push(`unparsable line: ${line}`);
      continue;
    }
    const labels = [...(s[2] ?? '').matchAll(/([^=,\s]+)="(?:[^"\\]|\\.)*"/g)].map(
      (m) => m[1] as string,
    );
    // Go's ParseFloat: NaN and Inf in any case.
    if (Number.isNaN(Number(s[3])) && !/^([+-]?inf|nan)$/i.test(s[3] as string))
      problems.push(`${s[1]}: value "${s[3]}" is not a number`);
    samples.push({ name: s[1] as string, labels });
  }

  const UNIT_ABBREVIATIONS =
    /(^|_)(ms|msec|millis|milliseconds|us|microseconds|ns|kb|mb|gb|kib|mib|percent|pct)(_|$)/;
  for (const [name, kind] of type) {
    if (!/^[a-z_:][a-z0-9_:]*$/.test(name))
      problems.push(`${name}: metric names should be written in snake_case`);
    if (!help.get(name)) problems.push(`${name}: no help text`);
    if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(kind))
      problems.push(`${name}: unknown type ${kind}`);
    if (kind === 'counter' && !name.endsWith('_total'))
      problems.push(`${name}: counter metrics should have "_total" suffix`);
    if (kind !== 'counter' && name.endsWith('_total'))
      problems.push(`${name}: non-counter metrics should not have "_total" suffix`);
    if (kind !== 'histogram' && kind !== 'summary' && /_(count|sum|bucket)$/.test(name))
      problems.push(
        `${name}: non-histogram and non-summary metrics should not have "_${name.split('_').pop()}" suffix`,
      );
    if (/_(gauge|counter|histogram|summary|metric)(_|$)/.test(name))
      problems.push(`${name}: metric names should not include the metric type`);
    if (UNIT_ABBREVIATIONS.test(name))
      problems.push(
        `${name}: use base units (seconds, bytes, ratio), not abbreviations or scaled units`,
      );
    const mine = samples.filter((x) =>
      kind === 'histogram' || kind === 'summary'
        ? x.name === name || /^(.*)_(bucket|sum|count)$/.exec(x.name)?.[1] === name
        : x.name === name,
    );
    if (kind === 'histogram' && mine.length) {
      if (!mine.some((x) => x.name === `${name}_bucket` && x.labels.includes('le')))
        problems.push(`${name}: histogram without _bucket{le}`);
      for (const suffix of ['_sum', '_count'])
        if (!mine.some((x) => x.name === `${name}${suffix}`))
          problems.push(`${name}: histogram without ${suffix}`);
    }
  }
  for (const s of samples) {
    const family = type.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count)$/, '');
    if (!type.has(family)) problems.push(`${s.name}: sample of no declared metric (no TYPE)`);
    for (const l of s.labels) {
      if (!/^[a-z_][a-z0-9_]*$/.test(l))
        problems.push(`${s.name}: label "${l}" should be written in snake_case`);
      if (l.startsWith('__')) problems.push(`${s.name}: label "${l}" is reserved`);
    }
  }
  return [...new Set(problems)];
}
