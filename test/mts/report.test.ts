import { describe, expect, it } from 'vitest';
import { type MtsState, stateFromReport } from '../../src/domain/status.js';
import { MtsError } from '../../src/mts/errors.js';
import { parseDeliveryReports, parseStatusAnswer } from '../../src/mts/report.js';
import type { MtsReport } from '../../src/mts/types.js';

/** The SPEC §2 example: `msg_status` is the 2022 name. */
const specDlr = {
  number: 375291234567,
  time: 1477417294667,
  status: 2,
  substatus: 23,
  msg_status: 23011,
  message_id: '9f60ac8f-e721-5027-b838-e6fcb95fcd7a',
  extra_id: 'AD-6640-7006',
  sent_via: 'sms',
  total_sms_parts: 1,
  delivered_sms_parts: 1,
};

describe('parseDeliveryReports', () => {
  it('reads the SPEC example (one object)', () => {
    const { reports, errors } = parseDeliveryReports(specDlr);
    expect(errors).toEqual([]);
    expect(reports).toEqual([
      {
        messageId: '9f60ac8f-e721-5027-b838-e6fcb95fcd7a',
        extraId: 'AD-6640-7006',
        phone: '375291234567',
        time: 1477417294667,
        status: 2,
        substatus: 23,
        msgStatus: 23011,
        sentVia: 'sms',
        totalParts: 1,
        deliveredParts: 1,
        raw: specDlr,
      },
    ]);
  });

  it('reads an array with string numbers and textual statuses', () => {
    const body = [
      {
        ...specDlr,
        number: '375291234567',
        status: '3',
        msg_status: '35015',
        time: '1477417299000',
      },
      { number: '+375441234567', message_id: 'm-2', status: 'delivrd' },
      { number: 375331234567, message_id: 'm-3', status: 'UNDELIV', substatus: null },
    ];
    const { reports, errors } = parseDeliveryReports(body);
    expect(errors).toEqual([]);
    expect(reports.map((r) => [r.phone, r.status, r.msgStatus, r.time])).toEqual([
      ['375291234567', 3, 35015, 1477417299000],
      ['375441234567', 'DELIVRD', undefined, undefined],
      ['375331234567', 'UNDELIV', undefined, undefined],
    ]);
    expect(reports[1]?.raw).toBe(body[1]);
  });

  it('reads msg_status (2022) and hyber_status (older) into one field; msg_status wins', () => {
    const { hyber_status: _h, msg_status: _m, ...bare } = { ...specDlr, hyber_status: 0 };
    const { reports, errors } = parseDeliveryReports([
      { ...bare, message_id: 'new', status: 3, msg_status: 36031 },
      { ...bare, message_id: 'old', status: 3, hyber_status: 35015 },
      { ...bare, message_id: 'old-str', status: '3', hyber_status: '36010' },
      { ...bare, message_id: 'both', status: 3, msg_status: 36024, hyber_status: 36031 },
      { ...bare, message_id: 'none', status: 3 },
    ]);
    expect(errors).toEqual([]);
    expect(reports.map((r) => [r.messageId, r.msgStatus])).toEqual([
      ['new', 36031],
      ['old', 35015],
      ['old-str', 36010],
      ['both', 36024],
      ['none', undefined],
    ]);
    expect(reports[1]).not.toHaveProperty('hyberStatus');
  });

  it('reads accepted as a boolean or its string, and leaves it out when absent', () => {
    const { reports, errors } = parseDeliveryReports([
      { ...specDlr, accepted: false },
      { ...specDlr, accepted: 'true' },
      specDlr,
      { ...specDlr, accepted: 'no' },
    ]);
    expect(reports.map((r) => r.accepted)).toEqual([false, true, undefined]);
    expect(reports[2]).not.toHaveProperty('accepted');
    expect(errors).toEqual(['report[3].accepted: expected true or false, got "no"']);
  });

  it('keeps the valid elements and names each invalid one', () => {
    const { reports, errors } = parseDeliveryReports([
      specDlr,
      { number: 375291234567, status: 2 },
      { ...specDlr, status: 'SEEN' },
      'junk',
    ]);
    expect(reports).toHaveLength(1);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^report\[1\]\.message_id: expected a non-empty message id/);
    expect(errors[1]).toMatch(/^report\[2\]\.status: expected a numeric status or one of DELIVRD/);
    expect(errors[2]).toBe('report[3]: expected a JSON object, got string');
  });

  it('refuses a body that is neither an object nor an array', () => {
    expect(parseDeliveryReports(null)).toEqual({
      reports: [],
      errors: ['expected a JSON object or an array of objects, got null'],
    });
    expect(parseDeliveryReports([])).toEqual({ reports: [], errors: [] });
  });
});

describe('parseStatusAnswer', () => {
  it('reads a status answer (phone_number, status -1)', () => {
    const body = {
      phone_number: '375291234567',
      message_id: 'abc',
      extra_id: 'our-1',
      time: 1764000000000,
      status: -1,
      substatus: 0,
      msg_status: 0,
      total_sms_parts: 2,
      delivered_sms_parts: 0,
    };
    expect(parseStatusAnswer(body)).toEqual({
      messageId: 'abc',
      extraId: 'our-1',
      phone: '375291234567',
      time: 1764000000000,
      status: -1,
      substatus: 0,
      msgStatus: 0,
      sentVia: undefined,
      totalParts: 2,
      deliveredParts: 0,
      raw: body,
    });
  });

  it('throws a retryable MtsError on an unreadable answer', () => {
    let caught: unknown;
    try {
      parseStatusAnswer({ phone_number: 375291234567, status: 2 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MtsError);
    expect(caught).toMatchObject({ action: 'retry', code: 'MTS_BAD_RESPONSE', ambiguous: false });
    expect((caught as Error).message).toMatch(/message_id/);
  });
});

describe('DLR body → state (parser and SPEC §2 map together)', () => {
  const base = { number: 375291234567, message_id: 'm', extra_id: 'e' };
  const cases: [string, Record<string, unknown>, MtsState][] = [
    ['msg_status delivered', { status: 2, substatus: 23, msg_status: 23011 }, 'DELIVRD'],
    ['hyber_status delivered', { status: 2, substatus: 23, hyber_status: 23011 }, 'DELIVRD'],
    [
      'string numbers',
      { status: '2', msg_status: '23011', total_sms_parts: '2', delivered_sms_parts: '2' },
      'DELIVRD',
    ],
    ['2 of 3 parts so far', { status: 2, total_sms_parts: 3, delivered_sms_parts: 2 }, 'ACCEPTD'],
    ['pending −1', { status: -1 }, 'ACCEPTD'],
    ['accepted, status 1', { status: 1, substatus: 12, msg_status: 12011 }, 'ACCEPTD'],
    ['EXPIRED 35015 (msg_status)', { status: 3, substatus: 35, msg_status: 35015 }, 'EXPIRED'],
    ['EXPIRED 35015 (hyber_status, strings)', { status: '3', hyber_status: '35015' }, 'EXPIRED'],
    ['UNDELIV 36031', { status: 3, substatus: 36, msg_status: 36031 }, 'UNDELIV'],
    ['MAP absent subscriber 36061', { status: 3, hyber_status: 36061 }, 'UNDELIV'],
    ['MAP barred 36090', { status: 3, msg_status: 36090 }, 'UNDELIV'],
    ['REJECTD spam 36058', { status: 3, msg_status: 36058 }, 'REJECTD'],
    ['REJECTD sent_via hyber', { status: 3, msg_status: 36011, sent_via: 'hyber' }, 'REJECTD'],
    ['REJECTD accepted false', { status: -1, accepted: false }, 'REJECTD'],
    ['textual DELIVRD', { status: 'DELIVRD' }, 'DELIVRD'],
    ['textual expired (lower case)', { status: 'expired' }, 'EXPIRED'],
    ['textual UNDELIV', { status: 'UNDELIV' }, 'UNDELIV'],
    ['textual REJECTD', { status: 'REJECTD' }, 'REJECTD'],
    ['textual ACCEPTD', { status: 'ACCEPTD' }, 'ACCEPTD'],
    ['textual UNKNOWN', { status: 'UNKNOWN' }, 'UNKNOWN'],
    ['status 3, unknown family', { status: 3, msg_status: 41000 }, 'UNKNOWN'],
  ];
  it.each(cases)('%s → %s', (_name, fields, state) => {
    const { reports, errors } = parseDeliveryReports({ ...base, ...fields });
    expect(errors).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(stateFromReport(reports[0] as MtsReport)).toBe(state);
  });

  it('maps each element of an array on its own', () => {
    const { reports } = parseDeliveryReports(
      cases.map(([, fields], i) => ({ ...base, message_id: `m${i}`, ...fields })),
    );
    expect(reports.map((r) => stateFromReport(r))).toEqual(cases.map(([, , state]) => state));
  });
});
