import type { FastifyInstance } from 'fastify';
import {
  parseRobotRequest,
  type RobotRequest,
  timingSafeTokenEqual,
} from '../../bitrix24/inbound.js';
import type { Clock } from '../../clock.js';
import { ROBOT_CODE } from '../../core/robotDefinition.js';
import { type Connection, getPortalByHandlerKey, insertRobotJob } from '../../store/index.js';

export interface RobotRouteDeps {
  conn: Connection;
  clock: Clock;
  /** A robot call was committed: wake the robot worker. */
  onJob: () => void;
}

/**
 * `POST /b24/robot/:key` — our automation rule. The call is committed as a job before the
 * reply; the robot worker loads the document, queues the SMS and answers the workflow with
 * `bizproc.event.send`. The same event_token twice is one job.
 */
export function robotRoutes(app: FastifyInstance, deps: RobotRouteDeps): void {
  app.post<{ Params: { key: string } }>('/b24/robot/:key', async (req, reply) => {
    const portal = await getPortalByHandlerKey(deps.conn, req.params.key);
    if (!portal)
      return reply.code(401).send({ error: 'unauthorized', message: 'Unknown handler key.' });
    let robot: RobotRequest;
    try {
      robot = parseRobotRequest(req.body);
    } catch (err) {
      return reply.code(400).send({ error: 'invalid_request', message: (err as Error).message });
    }
    const token = robot.auth.applicationToken;
    if (
      !token ||
      !portal.application_token ||
      !timingSafeTokenEqual(token, portal.application_token)
    ) {
      req.log.warn(
        { portalId: portal.id },
        'robot call with a missing or wrong application_token refused',
      );
      return reply
        .code(403)
        .send({ error: 'forbidden', message: 'application_token does not match this portal' });
    }
    if (robot.auth.memberId !== portal.id)
      return reply
        .code(403)
        .send({ error: 'forbidden', message: 'member_id does not match this handler key' });
    if (robot.code !== ROBOT_CODE)
      return reply
        .code(400)
        .send({ error: 'invalid_request', message: `unknown robot code "${robot.code}"` });
    const { job, created } = await insertRobotJob(
      deps.conn,
      {
        portalId: portal.id,
        eventToken: robot.eventToken,
        code: robot.code,
        documentId: robot.documentId,
        properties: robot.properties,
        requestId: req.id,
      },
      deps.clock.now(),
    );
    if (created) deps.onJob();
    return reply.code(200).send({ ok: true, job: job.id, duplicate: !created });
  });
}
