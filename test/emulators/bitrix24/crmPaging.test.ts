import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Bitrix24Emulator,
  startBitrix24Emulator,
} from '../../../src/emulators/bitrix24/index.js';

let emu: Bitrix24Emulator;
let token: string;

beforeEach(async () => {
  emu = await startBitrix24Emulator();
  token = emu.issueTokens().accessToken;
  for (let i = 1; i <= 130; i++)
    emu.addContact(
      i % 10 === 0 ? { NAME: `c${i}` } : { NAME: `c${i}`, PHONE: [`+37529${1000000 + i}`] },
    );
});
afterEach(async () => {
  await emu.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the tests walk arbitrary JSON answers
async function rest(method: string, params: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${emu.url}/rest/${method}.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...params, auth: token }),
  });
  return res.json();
}

const ids = (rows: { ID: string }[]) => rows.map((r) => Number(r.ID));

describe('Bitrix24 emulator: list paging as huge-data.md and batch.md describe it', () => {
  it('order ID ASC + >ID + start=-1: the next 50 after the ID, no total, PHONE only when selected', async () => {
    const page = await rest('crm.contact.list', {
      order: { ID: 'ASC' },
      filter: { '>ID': 60 },
      select: ['ID', 'PHONE'],
      start: -1,
    });
    expect(ids(page.result)).toEqual(Array.from({ length: 50 }, (_, i) => 61 + i));
    expect(page.total).toBe(0);
    expect(page.next).toBeUndefined();
    expect(page.result[0].PHONE[0]).toMatchObject({ VALUE: '+375291000061', TYPE_ID: 'PHONE' });
    // The 70th has no phone: no PHONE key at all.
    expect(page.result[9]).toEqual({ ID: '70' });
  });

  it('an ID list filter, >=ID, DESC order and start >= 0 give what a full scan would', async () => {
    const listed = await rest('crm.contact.list', {
      filter: { ID: [5, 3, 999, 120] },
      select: ['ID'],
      start: -1,
    });
    expect(ids(listed.result)).toEqual([3, 5, 120]);
    const from = await rest('crm.contact.list', {
      order: { ID: 'ASC' },
      filter: { '>=ID': 129 },
      start: -1,
    });
    expect(ids(from.result)).toEqual([129, 130]);
    const desc = await rest('crm.contact.list', { order: { ID: 'DESC' }, filter: { '>ID': 125 } });
    expect(ids(desc.result)).toEqual([130, 129, 128, 127, 126]);
    const counted = await rest('crm.contact.list', { order: { ID: 'ASC' }, start: 100 });
    expect(counted.total).toBe(130);
    expect(ids(counted.result)).toEqual(Array.from({ length: 30 }, (_, i) => 101 + i));
  });

  it('a batch chains pages through $result[prev][49][ID]; after a short page the reference is not a continuation', async () => {
    const page = (after: string) =>
      `crm.contact.list?order[ID]=ASC&select[0]=ID&start=-1&filter[%3EID]=${encodeURIComponent(after)}`;
    const body = await rest('batch', {
      halt: 0,
      cmd: {
        p0: page('0'),
        p1: page('$result[p0][49][ID]'),
        p2: page('$result[p1][49][ID]'),
        p3: page('$result[p2][49][ID]'),
      },
    });
    const r = body.result.result;
    expect(ids(r.p0)).toEqual(Array.from({ length: 50 }, (_, i) => 1 + i));
    expect(ids(r.p1)).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
    expect(ids(r.p2)).toEqual(Array.from({ length: 30 }, (_, i) => 101 + i));
    // p2 has no 50th record: `$result[p2][49][ID]` stays unresolved and p3 does not continue
    // after 130 (on a real portal what such a command returns is undefined: never trust it).
    expect(ids(r.p3).some((id) => id <= 130)).toBe(true);
    expect(emu.restRequests.byMethod.batch).toBe(1);
  });
});
