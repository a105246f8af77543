/**
 * The service (createService, configured from the environment like `serve`, workers off)
 * with one extra route, POST /bench/bare, that answers at once: the same process, Fastify
 * instance, form parser and hooks as the real handler, minus the handler's work. The bench
 * loads both with autocannon; their ratio is the durable-intake figure.
 */
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createService } from '../../src/service.js';

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL });
const service = await createService({ config, logger });
service.app.post('/bench/bare', async (req) => ({
  ok: true,
  fields: Object.keys((req.body ?? {}) as object).length,
}));
await service.app.listen({ port: config.PORT, host: config.HOST });

let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(1), 15_000).unref();
  await service.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
