/**
 * The languages of everything a Bitrix24 user reads from us (provider name, timeline notes,
 * failure reasons, admin alerts): Russian by default, English for an English portal.
 */
export type Lang = 'ru' | 'en';

export const DEFAULT_LANG: Lang = 'ru';

/** A text in every language we speak; Bitrix24 takes such maps for NAME / DESCRIPTION. */
export type Localized = Readonly<Record<Lang, string>>;

/** Bitrix24 language ids read in Russian: Russia, Belarus, Kazakhstan. */
const RUSSIAN_READING = new Set(['ru', 'by', 'kz']);

/**
 * Our language for a Bitrix24 language id (`LANGUAGE_ID`, `LANG`): Russian for `ru`, `by`,
 * `kz` and when unknown; English for any other (`en`, `de`, `ua`, `pl`…), which readers of
 * those portals are likelier to read than Russian.
 */
export function langOf(b24Language: string | undefined | null): Lang {
  const id = (b24Language ?? '').trim().toLowerCase();
  if (!id || RUSSIAN_READING.has(id)) return DEFAULT_LANG;
  return 'en';
}

/** A portal's language: the administrator's choice (`portal set --language`), else Bitrix24's. */
export function portalLang(settings: { language?: string; detectedLanguage?: string }): Lang {
  return langOf(settings.language ?? settings.detectedLanguage);
}

/** Browser language tags read in Russian (Belarusian and Kazakh readers included). */
const RUSSIAN_BROWSER = new Set(['ru', 'be', 'kk']);

/**
 * Our language for a browser's `Accept-Language`: its most preferred language decides —
 * Russian for Russian, Belarusian and Kazakh, English for any other; Russian without one.
 */
export function langOfAcceptLanguage(header: string | undefined): Lang {
  const tags = (header ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim().toLowerCase().split('-')[0] ?? '', q: q ? Number(q) : 1, i };
    })
    .filter((x) => x.tag && x.tag !== '*' && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  const first = tags[0];
  if (!first) return DEFAULT_LANG;
  return RUSSIAN_BROWSER.has(first.tag) ? 'ru' : 'en';
}
