import { ref } from 'vue';
import { PAGE, type PageKey } from '../../src/i18n/page';
import { serverLang } from './api';

export type Lang = 'ru' | 'en';

function stored(): Lang | undefined {
  try {
    const v = localStorage.getItem('b24mts-lang');
    return v === 'ru' || v === 'en' ? v : undefined;
  } catch {
    return undefined; // storage refused (a third-party frame)
  }
}

/**
 * The page's language: the reader's own switch, else the server's choice (the portal's
 * language inside Bitrix24, the browser's Accept-Language outside).
 */
export const lang = ref<Lang>(stored() ?? (serverLang === 'en' ? 'en' : 'ru'));

export function setLang(l: Lang): void {
  lang.value = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem('b24mts-lang', l);
  } catch {
    // the switch then lasts for this page only
  }
}

/** A string of the catalogue, `{name}` filled from `vars`. */
export function t(key: PageKey, vars: Record<string, string | number> = {}): string {
  const s = PAGE[key][lang.value];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** A catalogue string named by a prefix and a value (`state_DELIVRD`), else the value itself. */
export function tOf(prefix: string, value: string): string {
  const key = `${prefix}_${value}`;
  return key in PAGE ? t(key as PageKey) : value;
}

export function fmtTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(lang.value === 'ru' ? 'ru-RU' : 'en-GB', {
    timeZone: 'Europe/Minsk',
    dateStyle: 'short',
    timeStyle: 'medium',
  });
}

export function fmtRate(r: number | null | undefined): string {
  return r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`;
}

/** A message state's badge colour: delivered green, ended badly red, on its way neutral. */
export function stateColor(
  state: string,
): 'air-primary-success' | 'air-primary-alert' | 'air-secondary' {
  if (state === 'DELIVRD') return 'air-primary-success';
  if (['failed', 'UNDELIV', 'REJECTD', 'EXPIRED'].includes(state)) return 'air-primary-alert';
  return 'air-secondary';
}
