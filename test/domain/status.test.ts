import { describe, expect, it } from 'vitest';
import { describeMtsCode } from '../../src/domain/mtsCodes.js';
import {
  describeFailure,
  isFinal,
  MTS_STATES,
  type MtsState,
  mergeState,
  type ReportFields,
  stateFromReport,
  toBitrixStatus,
} from '../../src/domain/status.js';

const report = (fields: Partial<ReportFields>): ReportFields => ({ status: -1, ...fields });

describe('stateFromReport', () => {
  const cases: [string, Partial<ReportFields>, MtsState][] = [
    ['status −1', { status: -1 }, 'ACCEPTD'],
    ['status "-1"', { status: '-1' }, 'ACCEPTD'],
    ['status 1 (accepted, 12011)', { status: 1, substatus: 12, msgStatus: 12011 }, 'ACCEPTD'],
    ['status "1"', { status: '1' }, 'ACCEPTD'],
    ['status 2', { status: 2, substatus: 23, msgStatus: 23011, sentVia: 'sms' }, 'DELIVRD'],
    ['status "2"', { status: '2' }, 'DELIVRD'],
    ['status 2, 1 of 1 parts', { status: 2, totalParts: 1, deliveredParts: 1 }, 'DELIVRD'],
    ['status 2, 3 of 3 parts', { status: 2, totalParts: 3, deliveredParts: 3 }, 'DELIVRD'],
    ['status 2, 2 of 3 parts', { status: 2, totalParts: 3, deliveredParts: 2 }, 'ACCEPTD'],
    ['status 2, 0 of 2 parts', { status: 2, totalParts: 2, deliveredParts: 0 }, 'ACCEPTD'],
    ['status 2, only total given', { status: 2, totalParts: 3 }, 'DELIVRD'],
    ['status 2, only delivered given', { status: 2, deliveredParts: 1 }, 'DELIVRD'],
    ['status 3 + 35015', { status: 3, substatus: 35, msgStatus: 35015 }, 'EXPIRED'],
    ['status "3" + 35015', { status: '3', msgStatus: 35015 }, 'EXPIRED'],
    ['status 3, substatus 35, no code', { status: 3, substatus: 35 }, 'EXPIRED'],
    ['status 3 + 36031 undeliverable', { status: 3, substatus: 36, msgStatus: 36031 }, 'UNDELIV'],
    ['MAP 1/0 unknown subscriber 36010', { status: 3, msgStatus: 36010 }, 'UNDELIV'],
    ['MAP 5/0 unidentified 36050', { status: 3, msgStatus: 36050 }, 'UNDELIV'],
    ['MAP 6/1 absent 36061', { status: 3, msgStatus: 36061 }, 'UNDELIV'],
    ['MAP 6/4 absent 36064', { status: 3, msgStatus: 36064 }, 'UNDELIV'],
    ['MAP 9/0 illegal subscriber 36090', { status: 3, msgStatus: 36090 }, 'UNDELIV'],
    ['36011 enroute', { status: 3, msgStatus: 36011 }, 'UNDELIV'],
    ['36020 internal error', { status: 3, msgStatus: 36020 }, 'UNDELIV'],
    ['36065 network not found', { status: 3, msgStatus: 36065 }, 'UNDELIV'],
    ['other 36xxx (36320 memory full)', { status: 3, msgStatus: 36320 }, 'UNDELIV'],
    ['36051 rejected', { status: 3, msgStatus: 36051 }, 'REJECTD'],
    ['36055 alpha name not allowed', { status: 3, msgStatus: 36055 }, 'REJECTD'],
    ['36056 black/white list', { status: 3, msgStatus: 36056 }, 'REJECTD'],
    ['36057 quota', { status: 3, msgStatus: 36057 }, 'REJECTD'],
    ['36058 spam', { status: 3, msgStatus: 36058 }, 'REJECTD'],
    ['36024 bad number', { status: 3, substatus: 36, msgStatus: 36024 }, 'REJECTD'],
    [
      'status 3, a code of no known family',
      { status: 3, substatus: 34, msgStatus: 34012 },
      'UNKNOWN',
    ],
    ['status 3 no detail', { status: 3 }, 'UNDELIV'],
    ['status 3, msg_status 0', { status: 3, substatus: 0, msgStatus: 0 }, 'UNDELIV'],
    ['sent_via hyber', { status: 3, sentVia: 'hyber' }, 'REJECTD'],
    ['sent_via HYBER, status 2', { status: 2, sentVia: 'HYBER' }, 'REJECTD'],
    ['sent_via hyber but pending', { status: -1, sentVia: 'hyber' }, 'ACCEPTD'],
    ['accepted false', { status: -1, accepted: false }, 'REJECTD'],
    ['accepted true, pending', { status: -1, accepted: true }, 'ACCEPTD'],
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
  const cases: [MtsState, Partial<ReportFields> | undefined, RegExp][] = [
    ['EXPIRED', undefined, /^subscriber unavailable; MTS tried for the whole validity period$/],
    ['EXPIRED', { status: 3, msgStatus: 35015 }, /^SMS expired: .*\(MTS 35015\)$/],
    ['UNDELIV', undefined, /the number is not served/],
    [
      'UNDELIV',
      { status: 3, msgStatus: 36010 },
      /^SMS undelivered, unknown subscriber \(MTS 36010\)$/,
    ],
    ['REJECTD', { status: 3, msgStatus: 36024 }, /^Phone number incorrect \(MTS 36024\)$/],
    [
      'UNKNOWN',
      { status: 3, substatus: 34, msgStatus: 34012 },
      /not recognize \(MTS status 3, substatus 34, msg_status 34012\)$/,
    ],
    ['REJECTD', { status: 3, sentVia: 'hyber' }, /^blocked by MTS .*sent_via hyber\)$/],
    ['REJECTD', { status: -1, accepted: false }, /^blocked by MTS .*accepted false\)$/],
    ['UNKNOWN', { status: 7 }, /not recognize \(MTS status 7\)$/],
    ['DELIVRD', { status: 2, msgStatus: 23011 }, /^delivered$/],
    ['ACCEPTD', { status: -1 }, /^accepted by MTS/],
  ];
  it.each(cases)('%s %o', (state, fields, text) => {
    expect(describeFailure(state, fields ? report(fields) : undefined)).toMatch(text);
  });

  it('speaks Russian when asked, in the words of MTS', () => {
    expect(describeFailure('UNDELIV', report({ status: 3, msgStatus: 36320 }), 'ru')).toBe(
      'SMS сообщение не доставлено, память на телефоне переполнена (MTS 36320)',
    );
    expect(describeFailure('EXPIRED', undefined, 'ru')).toMatch(/^абонент был недоступен/);
    expect(describeFailure('UNKNOWN', report({ status: 3, msgStatus: 34012 }), 'ru')).toBe(
      'MTS сообщил статус, который нам неизвестен (MTS status 3, msg_status 34012)',
    );
  });
});

describe('describeMtsCode', () => {
  it.each([
    [10229, 'en', 'Quota is not enough (no money on the account)'],
    [10229, 'ru', 'Сообщение не отправлено из-за отсутствия средств на счёте'],
    [1130, 'en', 'Incorrect password'],
    [35015, 'ru', 'Истёк срок жизни SMS сообщения (TTL)'],
    [99999, 'en', 'unknown MTS code 99999'],
    [99999, 'ru', 'неизвестный код MTS 99999'],
  ] as const)('%i in %s', (code, lang, text) => {
    expect(describeMtsCode(code, lang)).toBe(text);
  });
});
