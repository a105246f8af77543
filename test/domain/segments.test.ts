import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  checkText,
  countSegments,
  DEFAULT_MAX_PARTS,
  MTS_MAX_PARTS,
} from '../../src/domain/segments.js';

const latin = (n: number) => 'a'.repeat(n);
const cyr = (n: number) => 'ж'.repeat(n);

describe('countSegments', () => {
  const cases: [string, string, ReturnType<typeof countSegments>][] = [
    ['empty', '', { encoding: 'GSM-7', units: 0, parts: 0, perPart: 160 }],
    ['1 Latin', 'a', { encoding: 'GSM-7', units: 1, parts: 1, perPart: 160 }],
    ['160 Latin', latin(160), { encoding: 'GSM-7', units: 160, parts: 1, perPart: 160 }],
    ['161 Latin', latin(161), { encoding: 'GSM-7', units: 161, parts: 2, perPart: 153 }],
    ['306 Latin', latin(306), { encoding: 'GSM-7', units: 306, parts: 2, perPart: 153 }],
    ['307 Latin', latin(307), { encoding: 'GSM-7', units: 307, parts: 3, perPart: 153 }],
    ['765 Latin', latin(765), { encoding: 'GSM-7', units: 765, parts: 5, perPart: 153 }],
    ['766 Latin', latin(766), { encoding: 'GSM-7', units: 766, parts: 6, perPart: 153 }],
    ['70 Cyrillic', cyr(70), { encoding: 'UCS-2', units: 70, parts: 1, perPart: 70 }],
    ['71 Cyrillic', cyr(71), { encoding: 'UCS-2', units: 71, parts: 2, perPart: 67 }],
    ['134 Cyrillic', cyr(134), { encoding: 'UCS-2', units: 134, parts: 2, perPart: 67 }],
    ['135 Cyrillic', cyr(135), { encoding: 'UCS-2', units: 135, parts: 3, perPart: 67 }],
    ['335 Cyrillic', cyr(335), { encoding: 'UCS-2', units: 335, parts: 5, perPart: 67 }],
    ['336 Cyrillic', cyr(336), { encoding: 'UCS-2', units: 336, parts: 6, perPart: 67 }],
    [
      'one Cyrillic letter in Latin',
      `${latin(69)}ж`,
      { encoding: 'UCS-2', units: 70, parts: 1, perPart: 70 },
    ],
    ['emoji counts 2', '😀', { encoding: 'UCS-2', units: 2, parts: 1, perPart: 70 }],
    ['68 + emoji', `${latin(68)}😀`, { encoding: 'UCS-2', units: 70, parts: 1, perPart: 70 }],
    ['69 + emoji', `${latin(69)}😀`, { encoding: 'UCS-2', units: 71, parts: 2, perPart: 67 }],
    // The surrogate pair would straddle the part boundary at 67: it moves whole to part 2.
    [
      '66 + emoji + 66',
      `${latin(66)}😀${latin(66)}`,
      { encoding: 'UCS-2', units: 134, parts: 3, perPart: 67 },
    ],
    [
      'extension chars count 2',
      '^{}\\[~]|€',
      { encoding: 'GSM-7', units: 18, parts: 1, perPart: 160 },
    ],
    ['form feed counts 2', '\f', { encoding: 'GSM-7', units: 2, parts: 1, perPart: 160 }],
    ['158 + €', `${latin(158)}€`, { encoding: 'GSM-7', units: 160, parts: 1, perPart: 160 }],
    ['159 + €', `${latin(159)}€`, { encoding: 'GSM-7', units: 161, parts: 2, perPart: 153 }],
    // An escape pair is never split: 152 + € cannot fit 153, so € opens part 2.
    [
      '152 + € + 152',
      `${latin(152)}€${latin(152)}`,
      { encoding: 'GSM-7', units: 306, parts: 3, perPart: 153 },
    ],
    [
      'GSM basics',
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà',
      {
        encoding: 'GSM-7',
        units: 64,
        parts: 1,
        perPart: 160,
      },
    ],
    ['ç (lower) is not GSM', 'ç', { encoding: 'UCS-2', units: 1, parts: 1, perPart: 70 }],
    ['guillemets are not GSM', '«a»', { encoding: 'UCS-2', units: 3, parts: 1, perPart: 70 }],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(countSegments(text)).toEqual(expected);
  });
});

describe('checkText', () => {
  it('accepts up to DEFAULT_MAX_PARTS (5) parts by default', () => {
    expect(DEFAULT_MAX_PARTS).toBe(5);
    expect(checkText(latin(765))).toMatchObject({ ok: true, parts: 5 });
    expect(checkText(cyr(335))).toMatchObject({ ok: true, parts: 5 });
    expect(checkText('Привет!')).toEqual({
      ok: true,
      encoding: 'UCS-2',
      units: 7,
      parts: 1,
      perPart: 70,
    });
  });

  const refusals: [string, string, RegExp][] = [
    ['empty', '', /^text is empty/],
    ['blank', ' \n\t ', /^text is empty/],
    [
      '412 Cyrillic',
      cyr(412),
      /^text needs 7 SMS parts \(412 Cyrillic characters\); the limit is 5 parts = 335 characters in Cyrillic or 765 in Latin: shorten the text$/,
    ],
    ['336 Cyrillic', cyr(336), /^text needs 6 SMS parts \(336 Cyrillic characters\)/],
    [
      '766 Latin',
      latin(766),
      /^text needs 6 SMS parts \(766 Latin characters\); the limit is 5 parts/,
    ],
    ['Latin with extension chars', `${latin(760)}{}{}`, /\(764 Latin characters, 768 counting/],
    ['Latin turned UCS-2 by a dash', `${latin(400)}—`, /401 characters in UCS-2 because of "—"/],
  ];
  it.each(refusals)('refuses %s', (_name, text, reason) => {
    const r = checkText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(reason);
  });

  it('keeps the counts on refusal', () => {
    expect(checkText(cyr(336))).toMatchObject({
      ok: false,
      encoding: 'UCS-2',
      units: 336,
      parts: 6,
      perPart: 67,
    });
  });

  it('takes the limit as a parameter, up to the MTS limit of 15 parts', () => {
    expect(MTS_MAX_PARTS).toBe(15);
    expect(checkText(cyr(336), 6)).toMatchObject({ ok: true, parts: 6 });
    expect(checkText(cyr(1005), 15)).toMatchObject({ ok: true, parts: 15 });
    expect(checkText(latin(2295), 15)).toMatchObject({ ok: true, parts: 15 });
    const over = checkText(cyr(1006), 15);
    expect(over).toMatchObject({ ok: false, parts: 16 });
    if (!over.ok) {
      expect(over.reason).toMatch(
        /^text needs 16 SMS parts \(1006 Cyrillic characters\); the limit is 15 parts = 1005 characters in Cyrillic or 2295 in Latin/,
      );
    }
    const latinOver = checkText(latin(2296), 15);
    expect(latinOver).toMatchObject({ ok: false, parts: 16 });
  });

  it('states a one-part limit in single-part sizes (70 / 160)', () => {
    expect(checkText(cyr(70), 1)).toMatchObject({ ok: true, parts: 1 });
    const r = checkText(cyr(71), 1);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(
        /needs 2 SMS parts .*; the limit is 1 part = 70 characters in Cyrillic or 160 in Latin/,
      );
    }
  });

  it.each([0, 16, 2.5, Number.NaN])('refuses maxParts %s', (n) => {
    expect(() => checkText('hi', n)).toThrow(RangeError);
  });
});

describe('SMS_MAX_PARTS', () => {
  it('defaults to 5 and takes 1–15', () => {
    expect(loadConfig({}).SMS_MAX_PARTS).toBe(5);
    expect(loadConfig({ SMS_MAX_PARTS: '15' }).SMS_MAX_PARTS).toBe(15);
    expect(loadConfig({ SMS_MAX_PARTS: '1' }).SMS_MAX_PARTS).toBe(1);
    expect(() => loadConfig({ SMS_MAX_PARTS: '16' })).toThrow(/SMS_MAX_PARTS/);
    expect(() => loadConfig({ SMS_MAX_PARTS: '0' })).toThrow(/SMS_MAX_PARTS/);
  });
});
