import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { lintMetrics } from '../helpers/promLint.js';
import { waitFor } from '../helpers/wait.js';

describe('/metrics', () => {
  it('the linter finds what promtool would', () => {
    const bad = [
      '# HELP sent Messages sent',
      '# TYPE sent counter',
      'sent 1',
      '# TYPE queueDepth gauge',
      'queueDepth{Portal="a"} 2',
      '# HELP latency_ms Latency',
      '# TYPE latency_ms histogram',
      'latency_ms_sum 1',
      '# HELP stray_total A gauge named like a counter',
      '# TYPE stray_total gauge',
      'stray_total 3',
      'undeclared 1',
    ].join('\n');
    expect(lintMetrics(bad)).toEqual(
      expect.arrayContaining([
        'sent: counter metrics should have "_total" suffix',
        'queueDepth: metric names should be written in snake_case',
        'queueDepth: no help text',
        'queueDepth: label "Portal" should be written in snake_case',
        'latency_ms: use base units (seconds, bytes, ratio), not abbreviations or scaled units',
        'latency_ms: histogram without _bucket{le}',
        'latency_ms: histogram without _count',
        'stray_total: non-counter metrics should not have "_total" suffix',
        'undeclared: sample of no declared metric (no TYPE)',
      ]),
    );
  });

  describe('of a running service', () => {
    let h: Harness;
    const METRICS_TOKEN = 'scrape-token-123';
    beforeAll(async () => {
      h = await startHarness({ dialect: 'sqlite', env: { METRICS_TOKEN } });
      const s = await h.b24.sendFromCard({ to: '+375291234567', text: 'metrics' });
      await waitFor(() => h.b24.latestStatus(s.messageId) === 'delivered', 'delivered');
    });
    afterAll(() => h.close());
    const scrape = async (token?: string) =>
      fetch(`${h.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

    it('wants METRICS_TOKEN when it is set', async () => {
      expect((await scrape()).status).toBe(401);
      expect((await scrape('wrong')).status).toBe(401);
      expect((await scrape(METRICS_TOKEN)).status).toBe(200);
    });

    it('passes the promtool rules: names, types, units, help text', async () => {
      const text = await (await scrape(METRICS_TOKEN)).text();
      expect(lintMetrics(text)).toEqual([]);
      // Ours under one prefix; the process and Node.js metrics under their standard names.
      const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string);
      expect(families.filter((n) => !/^(b24mts|process|nodejs)_/.test(n))).toEqual([]);
      expect(families).toEqual(
        expect.arrayContaining([
          'process_cpu_seconds_total',
          'process_resident_memory_bytes',
          'nodejs_eventloop_lag_seconds',
          'b24mts_intake_total',
          'b24mts_intake_duration_seconds',
          'b24mts_b24_rest_requests_total',
        ]),
      );
    });

    it('every metric the Grafana dashboard (docs/grafana-dashboard.json) plots exists', async () => {
      const text = await (await scrape(METRICS_TOKEN)).text();
      const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
      const dashboard = JSON.parse(
        readFileSync(join(import.meta.dirname, '../../docs/grafana-dashboard.json'), 'utf8'),
      ) as { panels: { title: string; targets: { expr: string }[] }[] };
      const used = dashboard.panels.flatMap((p) =>
        p.targets.flatMap((t) =>
          [...t.expr.matchAll(/\b((?:b24mts|process|nodejs)_[a-z0-9_]+)/g)].map((m) =>
            (m[1] as string).replace(/_(bucket|sum|count)$/, ''),
          ),
        ),
      );
      expect(used.length).toBeGreaterThan(15);
      expect(used.filter((name) => !families.has(name))).toEqual([]);
    });

    it('counts REST requests as a counter that only grows', async () => {
      const count = async () => {
        const text = await (await scrape(METRICS_TOKEN)).text();
        return Number(/^b24mts_b24_rest_requests_total\{portal="[^"]+"\} (\d+)/m.exec(text)?.[1]);
      };
      const first = await count();
      expect(first).toBeGreaterThan(0);
      const s = await h.b24.sendFromCard({ to: '+375291234568', text: 'one more' });
      await waitFor(() => h.b24.latestStatus(s.messageId) === 'delivered', 'delivered');
      expect(await count()).toBeGreaterThan(first);
      expect(await count()).toBeGreaterThanOrEqual(first);
    });
  });
});
