import type { Command } from 'commander';
import { connect, migrate } from '../store/index.js';
import { configOrExit, fail } from './common.js';

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Bring the database schema up to date (serve does this at start too)')
    .action(async () => {
      const config = configOrExit();
      // The one command that may create a missing SQLite database: starting over is explicit.
      const conn = connect(config.DATABASE_URL, { create: 'always' });
      try {
        const { applied } = await migrate(conn);
        process.stdout.write(
          applied.length ? `applied: ${applied.join(', ')}\n` : `up to date (${conn.describe})\n`,
        );
      } catch (err) {
        fail((err as Error).message);
      } finally {
        await conn.close();
      }
    });
}
