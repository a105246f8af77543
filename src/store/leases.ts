import type { Connection } from './dialects/types.js';

/**
 * Takes or renews the named lease for `holder` until `now + ttlMs`. Only one instance holds
 * a lease at a time, so singleton jobs (poller, status pusher) run in exactly one place.
 */
export async function acquireLease(
  conn: Connection,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  await conn.db
    .insertInto('leases')
    .values({ name, holder, expires_at: now + ttlMs })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, expires_at: now + ttlMs })
        .where((eb) =>
          eb.or([eb('leases.expires_at', '<', now), eb('leases.holder', '=', holder)]),
        ),
    )
    .execute();
  const row = await conn.db
    .selectFrom('leases')
    .select('holder')
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.holder === holder;
}

export async function releaseLease(conn: Connection, name: string, holder: string): Promise<void> {
  await conn.db
    .deleteFrom('leases')
    .where('name', '=', name)
    .where('holder', '=', holder)
    .execute();
}

/** The lease's current holder and expiry, if any (a read: no write to learn it is taken). */
export function currentLease(
  conn: Connection,
  name: string,
): Promise<{ holder: string; expires_at: number } | undefined> {
  return conn.db
    .selectFrom('leases')
    .select(['holder', 'expires_at'])
    .where('name', '=', name)
    .executeTakeFirst();
}
