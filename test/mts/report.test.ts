import { describe, expect, it } from 'vitest';
import { MtsError } from '../../src/mts/errors.js';
import { parseDeliveryReports, parseStatusAnswer } from '../../src/mts/report.js';

const specDlr = {
  number: 375291234567,
  time: 1477417294667,
  status: 2,
  substatus: 23,
  hyber_status: 23011,
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
        hyberStatus: 23011,
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
        hyber_status: '35015',
        time: '1477417299000',
      },
      { number: '+375441234567', message_id: 'm-2', status: 'delivrd' },
      { number: 375331234567, message_id: 'm-3', status: 'UNDELIV', substatus: null },
    ];
    const { reports, errors } = parseDeliveryReports(body);
    expect(errors).toEqual([]);
    expect(reports.map((r) => [r.phone, r.status, r.hyberStatus, r.time])).toEqual([
      ['375291234567', 3, 35015, 1477417299000],
      ['375441234567', 'DELIVRD', undefined, undefined],
      ['375331234567', 'UNDELIV', undefined, undefined],
    ]);
    expect(reports[1]?.raw).toBe(body[1]);
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
      hyber_status: 0,
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
      hyberStatus: 0,
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
