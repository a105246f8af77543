import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDlrKeys } from '../../src/core/dlrKeys.js';
import { createTestDb, seedPortal, type TestDb } from '../helpers/db.js';

describe('DLR keys', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb('sqlite');
  });
  afterEach(() => t.cleanup());

  it("builds each portal's callback URL; a portal installed later is found", async () => {
    const keys = makeDlrKeys({ conn: t.conn, publicUrl: 'https://sms.example' });
    expect(await keys.callbackUrl(null)).toBeUndefined();
    expect(await keys.callbackUrl('m1')).toBeUndefined();
    const p = await seedPortal(t.conn, 'm1', 'a.bitrix24.by');
    expect(await keys.callbackUrl('m1')).toBe(`https://sms.example/mts/dlr/${p.dlr_key}`);
    // CLI sends (no portal) report to the first portal's callback.
    expect(await keys.keyFor(null)).toBe(p.dlr_key);
  });

  it('keeps a key once known; an install tells it without a read', async () => {
    const keys = makeDlrKeys({ conn: t.conn, publicUrl: 'https://sms.example' });
    const p = await seedPortal(t.conn, 'm1', 'a.bitrix24.by');
    expect(await keys.keyFor('m1')).toBe(p.dlr_key);
    await t.conn.db.deleteFrom('portals').where('id', '=', 'm1').execute();
    expect(await keys.keyFor('m1')).toBe(p.dlr_key);
    keys.remember({ id: 'm2', dlr_key: 'k2' });
    expect(await keys.keyFor('m2')).toBe('k2');
  });
});
