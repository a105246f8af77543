import type { Kysely, Migration } from 'kysely';

/**
 * The `X-Request-Id` of the request that brought a message (issue 12): the same id is in that
 * request's log lines and in the message's history, so one can be found from the other. Null
 * for messages that came without one (campaigns, the CLI; robots' since 0015) and before this migration.
 */
export const requestIdMigration: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
  async up(db: Kysely<any>) {
    await db.schema.alterTable('messages').addColumn('request_id', 'text').execute();
  },
};
