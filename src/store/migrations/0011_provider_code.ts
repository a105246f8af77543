import type { Kysely, Migration } from 'kysely';

/**
 * Sender ID choice (issue 11, SPEC §3): a portal may register one Bitrix24 provider per alpha
 * name. A message remembers the provider it came through, because its status must go back
 * under that provider's CODE (Bitrix24 looks the message up by provider and id). Null: our
 * default provider, and messages that did not come from a provider.
 */
export const providerCodeMigration: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
  async up(db: Kysely<any>) {
    await db.schema.alterTable('messages').addColumn('provider_code', 'text').execute();
  },
};
