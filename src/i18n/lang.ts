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
