import { describe, expect, it } from 'vitest';
import {
  describeFailure,
  isFinal,
  MTS_STATES,
  type MtsState,
  mergeState,
  stateFromReport,
  toBitrixStatus,
} from '../../src/domain/status.js';
import type { MtsReport } from '../../src/mts/types.js';

const report = (fields: Partial<MtsReport>): MtsReport => ({
  messageId: 'm-1',
  status: -1,
  raw: {},
  ...fields,
});

describe('stateFromReport', () => {
  const cases: [string, Partial<MtsReport>, MtsState][] = [
    ['status −1', { status: -1 }, 'ACCEPTD'],
    ['status "-1"', { status: '-1' }, 'ACCEPTD'],
    ['status 2', { status: 2, substatus: 23, hyberStatus: 23011, sentVia: 'sms' }, 'DELIVRD'],
    ['status "2"', { status: '2' }, 'DELIVRD'],
    ['status 2, 1 of 1 parts', { status: 2, totalParts: 1, deliveredParts: 1 }, 'DELIVRD'],
    ['status 2, 3 of 3 parts', { status: 2, totalParts: 3, deliveredParts: 3 }, 'DELIVRD'],
    ['status 2, 2 of 3 parts', { status: 2, totalParts: 3, deliveredParts: 2 }, 'ACCEPTD'],
    ['status 2, 0 of 2 parts', { status: 2, totalParts: 2, deliveredParts: 0 }, 'ACCEPTD'],
    ['status 2, only total given', { status: 2, totalParts: 3 }, 'DELIVRD'],
    ['status 2, only delivered given', { status: 2, deliveredParts: 1 }, 'DELIVRD'],
    ['status 3 + 35015', { status: 3, substatus: 35, hyberStatus: 35015 }, 'EXPIRED'],
    ['status 3 other', { status: 3, substatus: 34, hyberStatus: 34012 }, 'UNDELIV'],
    ['status 3 no detail', { status: 3 }, 'UNDELIV'],
    ['sent_via hyber', { status: 3, sentVia: 'hyber' }, 'REJECTD'],
    ['sent_via HYBER, status 2', { status: 2, sentVia: 'HYBER' }, 'REJECTD'],
    ['sent_via hyber but pending', { status: -1, sentVia: 'hyber' }, 'ACCEPTD'],
    ['text ACCEPTD', { status: 'ACCEPTD' }, 'ACCEPTD'],
    ['text DELIVRD', { status: 'DELIVRD' }, 'DELIVRD'],
    ['text delivrd (case)', { status: ' delivrd ' }, 'DELIVRD'],
    [
      'text DELIVRD, 1 of 2 parts',
      { status: 'DELIVRD', totalParts: 2, deliveredParts: 1 },
      'ACCEPTD',
    ],
    ['text EXPIRED', { status: 'EXPIRED' }, 'EXPIRED'],
    ['text UNDELIV', { status: 'UNDELIV' }, 'UNDELIV'],
    ['text REJECTD', { status: 'REJECTD' }, 'REJECTD'],
    ['text UNKNOWN', { status: 'UNKNOWN' }, 'UNKNOWN'],
    ['text DELIVERED alias', { status: 'DELIVERED' }, 'DELIVRD'],
    ['text garbage', { status: 'ENROUTE' }, 'UNKNOWN'],
    ['empty text', { status: '' }, 'UNKNOWN'],
    ['status 0', { status: 0 }, 'UNKNOWN'],
    ['status 1', { status: 1 }, 'UNKNOWN'],
    ['status 4', { status: 4 }, 'UNKNOWN'],
    ['status NaN', { status: Number.NaN }, 'UNKNOWN'],
  ];
  it.each(cases)('%s → %s', (_name, fields, state) => {
    expect(stateFromReport(report(fields))).toBe(state);
  });
});

describe('isFinal and toBitrixStatus', () => {
  const cases: [MtsState | 'queued' | 'failed', boolean | null, string][] = [
    ['queued', null, 'queued'],
    ['failed', null, 'failed'],
    ['ACCEPTD', false, 'sent'],
    ['UNKNOWN', false, 'sent'],
    ['DELIVRD', true, 'delivered'],
    ['EXPIRED', true, 'undelivered'],
    ['UNDELIV', true, 'undelivered'],
    ['REJECTD', true, 'failed'],
  ];
  it.each(cases)('%s: final %s, Bitrix24 %s', (state, final, b24) => {
    expect(toBitrixStatus(state)).toBe(b24);
    if (final !== null) expect(isFinal(state as MtsState)).toBe(final);
  });

  it('covers every state', () => {
    expect(MTS_STATES).toHaveLength(6);
    for (const s of MTS_STATES) expect(cases.some(([c]) => c === s)).toBe(true);
  });
});

describe('mergeState', () => {
  const finals: MtsState[] = ['DELIVRD', 'EXPIRED', 'UNDELIV', 'REJECTD'];
  const open: MtsState[] = ['ACCEPTD', 'UNKNOWN'];
  const cases: [MtsState | null, MtsState, MtsState, boolean][] = [
    [null, 'ACCEPTD', 'ACCEPTD', true],
    [null, 'DELIVRD', 'DELIVRD', true],
    ['ACCEPTD', 'ACCEPTD', 'ACCEPTD', false],
    ['ACCEPTD', 'UNKNOWN', 'UNKNOWN', true],
    ['UNKNOWN', 'ACCEPTD', 'ACCEPTD', true],
    // Every open state gives way to every final one.
    ...open.flatMap((o) =>
      finals.map((f): [MtsState, MtsState, MtsState, boolean] => [o, f, f, true]),
    ),
    // A final state stays, whatever comes after: duplicates, late ACCEPTD, another final.
    ...finals.flatMap((f) =>
      MTS_STATES.map((i): [MtsState, MtsState, MtsState, boolean] => [f, i, f, false]),
    ),
  ];
  it.each(cases)('%s + %s → %s (changed %s)', (current, incoming, state, changed) => {
    expect(mergeState(current, incoming)).toEqual({ state, changed });
  });

  it('keeps the first final state of a stream of duplicates and late reports', () => {
    const stream: MtsState[] = ['ACCEPTD', 'UNKNOWN', 'UNDELIV', 'ACCEPTD', 'DELIVRD', 'UNDELIV'];
    let state: MtsState | null = null;
    const changes: MtsState[] = [];
    for (const incoming of stream) {
      const merged = mergeState(state, incoming);
      if (merged.changed) changes.push(merged.state);
      state = merged.state;
    }
    expect(state).toBe('UNDELIV');
    expect(changes).toEqual(['ACCEPTD', 'UNKNOWN', 'UNDELIV']);
  });
});

describe('describeFailure', () => {
  const cases: [MtsState, Partial<MtsReport> | undefined, RegExp][] = [
    ['EXPIRED', undefined, /^subscriber unavailable; MTS tried for the whole validity period$/],
    ['EXPIRED', { status: 3, hyberStatus: 35015 }, /^subscriber unavailable/],
    ['UNDELIV', undefined, /the number is not served/],
    ['UNDELIV', { status: 3, hyberStatus: 36024 }, /^the phone number is incorrect$/],
    [
      'UNDELIV',
      { status: 3, substatus: 34, hyberStatus: 34012 },
      /\(MTS status 3, substatus 34, hyber_status 34012\)$/,
    ],
    ['REJECTD', { status: 3, sentVia: 'hyber' }, /^blocked by MTS .*sent_via hyber\)$/],
    ['UNKNOWN', { status: 7 }, /not recognize \(MTS status 7\)$/],
    ['DELIVRD', { status: 2, hyberStatus: 23011 }, /^delivered$/],
    ['ACCEPTD', { status: -1 }, /^accepted by MTS/],
  ];
  it.each(cases)('%s %o', (state, fields, text) => {
    expect(describeFailure(state, fields ? report(fields) : undefined)).toMatch(text);
  });
});
