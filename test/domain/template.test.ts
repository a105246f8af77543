import { describe, expect, it } from 'vitest';
import {
  buildTemplateValues,
  formatMoneyBYN,
  renderTemplate,
  type TemplateValues,
} from '../../src/domain/template.js';

describe('renderTemplate fills placeholders', () => {
  const values: TemplateValues = {
    CONTACT_NAME: 'Ольга',
    DEAL_TITLE: 'Заказ 42',
    DEAL_OPPORTUNITY: '1 234,50 BYN',
    DEAL_UF_CRM_123: '15.06',
    N: 7,
    ZERO: 0,
  };
  const cases: [string, string, string][] = [
    ['one', 'Здравствуйте, #CONTACT_NAME#!', 'Здравствуйте, Ольга!'],
    ['several', '#DEAL_TITLE#: #DEAL_OPPORTUNITY#', 'Заказ 42: 1 234,50 BYN'],
    ['repeated', '#N#-#N#', '7-7'],
    ['UF field', 'Дата: #DEAL_UF_CRM_123#', 'Дата: 15.06'],
    ['number 0 is a value', '#ZERO# items', '0 items'],
    ['lone # stays', 'order #12 is ready', 'order #12 is ready'],
    [
      '# around words stays',
      '#hashtag # and ## and #lower_case#',
      '#hashtag # and ## and #lower_case#',
    ],
    ['placeholder next to #', 'order ##N#', 'order #7'],
    ['no placeholders', 'plain text', 'plain text'],
    ['empty template', '', ''],
  ];
  it.each(cases)('%s', (_name, template, text) => {
    expect(renderTemplate(template, values)).toEqual({ ok: true, text });
  });
});

describe('renderTemplate refuses holes', () => {
  const values: TemplateValues = {
    CONTACT_NAME: 'Ольга',
    CONTACT_LAST_NAME: null,
    LEAD_NAME: undefined,
    COMPANY_TITLE: '   ',
    DEAL_TITLE: '',
    NAN: Number.NaN,
  };
  const cases: [string, string, string[], string[], RegExp][] = [
    ['unknown', 'Hi #CONTACT_NAME# #FOO#', [], ['FOO'], /unknown placeholder #FOO#/],
    ['two unknown', '#FOO# #BAR# #FOO#', [], ['FOO', 'BAR'], /unknown placeholders #FOO#, #BAR#/],
    ['null', '#CONTACT_LAST_NAME#', ['CONTACT_LAST_NAME'], [], /#CONTACT_LAST_NAME# is empty/],
    ['undefined', '#LEAD_NAME#', ['LEAD_NAME'], [], /#LEAD_NAME# is empty/],
    ['blank', '#COMPANY_TITLE#', ['COMPANY_TITLE'], [], /#COMPANY_TITLE# is empty/],
    ['empty string', '#DEAL_TITLE#', ['DEAL_TITLE'], [], /#DEAL_TITLE# is empty/],
    ['NaN', '#NAN#', ['NAN'], [], /#NAN# is empty/],
    [
      'both',
      '#DEAL_TITLE# #X# #LEAD_NAME#',
      ['DEAL_TITLE', 'LEAD_NAME'],
      ['X'],
      /unknown placeholder #X#; #DEAL_TITLE#, #LEAD_NAME# are empty/,
    ],
    [
      'inherited keys are unknown',
      '#CONSTRUCTOR# #TO_STRING#',
      [],
      ['CONSTRUCTOR', 'TO_STRING'],
      /unknown/,
    ],
  ];
  it.each(cases)('%s', (_name, template, missing, unknown, message) => {
    const r = renderTemplate(template, values);
    expect(r).toMatchObject({ ok: false, missing, unknown });
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe('formatMoneyBYN', () => {
  const cases: [number | string, string | undefined, string][] = [
    [1234.5, undefined, '1 234,50 BYN'],
    [1234.56, undefined, '1 234,56 BYN'],
    [1234, undefined, '1 234 BYN'],
    [1234.0, undefined, '1 234 BYN'],
    [0, undefined, '0 BYN'],
    [0.5, undefined, '0,50 BYN'],
    [0.005, undefined, '0,01 BYN'],
    [999, undefined, '999 BYN'],
    [1000, undefined, '1 000 BYN'],
    [1234567.891, undefined, '1 234 567,89 BYN'],
    [-1500.25, undefined, '-1 500,25 BYN'],
    [-0.001, undefined, '0 BYN'],
    ['1234.50', undefined, '1 234,50 BYN'],
    ['1 234,50', undefined, '1 234,50 BYN'],
    ['1234.50|USD', undefined, '1 234,50 USD'],
    ['150|BYN', 'EUR', '150 BYN'],
    [99.9, 'USD', '99,90 USD'],
    [10, '', '10'],
    ['abc', undefined, 'abc'],
  ];
  it.each(cases)('%s %s → %s', (amount, currency, text) => {
    expect(formatMoneyBYN(amount, currency)).toBe(text);
  });
});

describe('buildTemplateValues', () => {
  const deal = {
    ID: '42',
    TITLE: 'Заказ 42',
    OPPORTUNITY: '1234.50',
    CURRENCY_ID: 'BYN',
    CLOSED: false,
    UF_CRM_123: '15.06',
    UF_CRM_PRICE: '150|USD',
    UF_CRM_TAGS: ['a', 'b'],
    UF_CRM_EMPTY: null,
    COMMENTS: '',
    NESTED: { a: 1 },
  };
  const contact = {
    NAME: 'Ольга',
    LAST_NAME: 'Петрова',
    PHONE: [
      { ID: '1', VALUE: '+375291234567', VALUE_TYPE: 'MOBILE', TYPE_ID: 'PHONE' },
      { ID: '2', VALUE: '+375331234567', VALUE_TYPE: 'WORK', TYPE_ID: 'PHONE' },
    ],
    EMAIL: [],
    UF_CRM_SMS_CONSENT: '1',
  };

  it('prefixes every scalar field with its entity and exposes the document own fields', () => {
    const v = buildTemplateValues({
      entity: 'deal',
      deal,
      contact,
      company: { TITLE: 'ООО Ромашка' },
    });
    expect(v).toMatchObject({
      DEAL_ID: '42',
      DEAL_TITLE: 'Заказ 42',
      DEAL_OPPORTUNITY: '1 234,50 BYN',
      DEAL_CURRENCY_ID: 'BYN',
      DEAL_CLOSED: 'N',
      DEAL_UF_CRM_123: '15.06',
      DEAL_UF_CRM_PRICE: '150 USD',
      DEAL_UF_CRM_TAGS: 'a, b',
      DEAL_UF_CRM_EMPTY: null,
      DEAL_COMMENTS: '',
      CONTACT_NAME: 'Ольга',
      CONTACT_LAST_NAME: 'Петрова',
      CONTACT_PHONE: '+375291234567',
      CONTACT_EMAIL: null,
      CONTACT_UF_CRM_SMS_CONSENT: '1',
      COMPANY_TITLE: 'ООО Ромашка',
      TITLE: 'Заказ 42',
      OPPORTUNITY: '1 234,50 BYN',
    });
    expect(v).not.toHaveProperty('DEAL_NESTED');
    expect(v).not.toHaveProperty('NAME');
  });

  it('renders a full robot template, and names an empty field', () => {
    const v = buildTemplateValues({ deal, contact });
    expect(
      renderTemplate('#CONTACT_NAME#, ваш #DEAL_TITLE# на #DEAL_OPPORTUNITY# готов (#TITLE#)', v),
    ).toEqual({ ok: true, text: 'Ольга, ваш Заказ 42 на 1 234,50 BYN готов (Заказ 42)' });
    expect(renderTemplate('#DEAL_COMMENTS# #LEAD_TITLE#', v)).toMatchObject({
      ok: false,
      missing: ['DEAL_COMMENTS'],
      unknown: ['LEAD_TITLE'],
    });
  });

  it('takes the first present entity as the document by default', () => {
    const v = buildTemplateValues({
      lead: { NAME: 'Иван', TITLE: 'Заявка', OPPORTUNITY: 0, CURRENCY_ID: 'USD' },
    });
    expect(v).toMatchObject({
      LEAD_NAME: 'Иван',
      LEAD_TITLE: 'Заявка',
      LEAD_OPPORTUNITY: '0 USD',
      NAME: 'Иван',
      TITLE: 'Заявка',
    });
    expect(buildTemplateValues({ contact })).toMatchObject({ NAME: 'Ольга', LAST_NAME: 'Петрова' });
  });

  it('converts crm.item camelCase fields', () => {
    const v = buildTemplateValues({
      item: {
        id: 7,
        title: 'Счёт',
        opportunity: 99.9,
        currencyId: 'BYN',
        assignedById: 1,
        ufCrm5_1699: 'x',
        ufCrm_77: 'y',
        contactIds: [3, 4],
        fm: [{ typeId: 'PHONE', value: '+375291234567' }],
      },
    });
    expect(v).toMatchObject({
      ITEM_ID: '7',
      ITEM_TITLE: 'Счёт',
      ITEM_OPPORTUNITY: '99,90 BYN',
      ITEM_CURRENCY_ID: 'BYN',
      ITEM_ASSIGNED_BY_ID: '1',
      ITEM_UF_CRM_5_1699: 'x',
      ITEM_UF_CRM_77: 'y',
      ITEM_CONTACT_IDS: '3, 4',
      ITEM_FM: '+375291234567',
      TITLE: 'Счёт',
    });
  });

  it('gives nothing for an empty document', () => {
    expect(buildTemplateValues({})).toEqual({});
  });
});
