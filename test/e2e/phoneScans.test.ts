import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRAFTED_TALLY, seedCrafted } from '../core/phones/env.js';
import { runCli } from '../helpers/child.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const TOKEN = 'admin-secret-token-654';

describe("the phone base's last scan in the admin API", () => {
  let h: Harness;
  let dir: string;
  const api = (path: string) =>
    fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });

  beforeAll(async () => {
    h = await startHarness({ dialect: 'sqlite', env: { ADMIN_TOKEN: TOKEN } });
    dir = mkdtempSync(join(tmpdir(), 'b24mts-scans-'));
    seedCrafted(h.b24);
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('`phones scan` is recorded: its tally, and its report as the same CSV it wrote', async () => {
    const out = join(dir, 'scan.csv');
    const first = await runCli(['phones', 'scan', '--json', '--out', out], h.env);
    expect(first.code, first.output).toBe(0);
    const again = await runCli(['phones', 'scan', '--json'], h.env);
    expect(again.code, again.output).toBe(0);

    expect((await fetch(`${h.url}/api/phones/scans`)).status).toBe(401);
    const scans = (await (await api('/api/phones/scans')).json()) as {
      id: number;
      state: string;
      tally: unknown;
      report: string;
    }[];
    // The second scan replaced the first.
    expect(scans).toHaveLength(1);
    expect(scans[0]).toMatchObject({ state: 'done', tally: CRAFTED_TALLY });
    const report = await api(scans[0]?.report as string);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(report.headers.get('content-disposition')).toMatch(
      /^attachment; filename="phones-scan-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(await report.text()).toBe(readFileSync(out, 'utf8'));
    expect((await api('/api/phones/scans/999/report.csv')).status).toBe(404);
  });
});
