export {
  checkBeforeSending,
  checkMarketingConsent,
  decideFromRows,
  registryConsent,
} from './check.js';
export { type EnsureConsentFieldOptions, ensureConsentField, type FieldOutcome } from './field.js';
export { consentOnRegister } from './onRegister.js';
export { type EntitySyncResult, type SyncOptions, type SyncResult, syncConsent } from './sync.js';
export { type ConsentSyncer, type ConsentSyncerOptions, makeConsentSyncer } from './syncer.js';
export {
  type ConsentDecision,
  type ConsentDeps,
  type ConsentEntityType,
  DEFAULT_CONSENT_FIELD,
  DEFAULT_ENTITIES,
} from './types.js';
export { parseConsentValue } from './values.js';
