export { type AdminAlert, alertText, minskTime } from './alerts.js';
export { DEFAULT_LANG, type Lang, type Localized, langOf, portalLang } from './lang.js';
export { type Explained, explainFailReason, explainUndelivered } from './reasons.js';
export * from './texts.js';
