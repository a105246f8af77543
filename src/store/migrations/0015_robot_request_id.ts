import type { Kysely, Migration } from 'kysely';

/**
 * The `X-Request-Id` of the robot call that made a robot job (issue 12). A robot's message is
 * queued later, by the robot worker, and takes this id, so its history names the request
 * Bitrix24 made — and that request's log lines — as a card SMS's does. Null before this
 * migration.
 */
export const robotRequestIdMigration: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type (Kysely docs).
  async up(db: Kysely<any>) {
    await db.schema.alterTable('robot_jobs').addColumn('request_id', 'text').execute();
  },
};
