import type { FastifyReply } from 'fastify';

/**
 * During a simulated outage every request gets what a front proxy gives when the backend
 * is down: 503 with an HTML page, not Bitrix24's JSON. Clients must cope with a body that
 * does not parse. (Chosen over connection resets: deterministic and visible in logs.)
 */
export function sendOutage(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .header('content-type', 'text/html; charset=utf-8')
    .send(
      '<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503 Service Temporarily Unavailable</h1></body></html>',
    );
}
