import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

/** A tiny DLR endpoint: records every body and answers with the next scripted status (200 after). */
export interface DlrReceiver {
  url: string;
  bodies: unknown[];
  /** HTTP statuses for the next callbacks, in order. */
  script: number[];
  close(): Promise<void>;
}

export async function startDlrReceiver(): Promise<DlrReceiver> {
  const app = Fastify();
  const r = { bodies: [] as unknown[], script: [] as number[] };
  app.post('/mts/dlr/key', async (req, reply) => {
    r.bodies.push(req.body);
    return reply.code(r.script.shift() ?? 200).send({ ok: true });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}/mts/dlr/key`,
    close: () => app.close(),
  });
}
