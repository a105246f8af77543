import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per service instance (several run inside one test process). */
export function createMetrics() {
  const registry = new Registry();
  // The process and Node.js metrics under their standard names (process_*, nodejs_*), as
  // every exporter and dashboard names them. The event-loop-lag histogram samples with a
  // libuv timer: prom-client's default 10 ms wakes an idle service 100 times a second
  // (measured ~4 ms CPU per second doing nothing); 100 ms still catches every stall that
  // matters to an SMS gateway.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  // Gauges that prom-client names like counters; the same figures stay, by type, in
  // nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name);
  const m = {
    registry,
    intake: new Counter({
      name: 'b24mts_intake_total',
      help: 'Messages received from Bitrix24 or the CLI, by source and outcome',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    }),
    sends: new Counter({
      name: 'b24mts_mts_sends_total',
      help: 'MTS send attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    dlrs: new Counter({
      name: 'b24mts_dlr_received_total',
      help: 'Delivery reports received, by kind (changed, unchanged, unknown_id, invalid)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    polls: new Counter({
      name: 'b24mts_polls_total',
      help: 'MTS status queries by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    pushes: new Counter({
      name: 'b24mts_status_pushes_total',
      help: 'Statuses pushed to Bitrix24, by portal and outcome',
      labelNames: ['portal', 'outcome'],
      registers: [registry],
    }),
    restRequests: new Counter({
      name: 'b24mts_b24_rest_requests_total',
      help: 'REST requests sent to each Bitrix24 portal (every call and retry; a batch is one; OAuth excluded)',
      labelNames: ['portal'],
      registers: [registry],
    }),
    paused: new Gauge({
      name: 'b24mts_sending_paused',
      help: '1 while an MTS account is paused (credentials, balance, connection)',
      registers: [registry],
    }),
    holds: new Gauge({
      name: 'b24mts_alpha_names_held',
      help: 'Alpha names MTS currently refuses (their messages wait)',
      registers: [registry],
    }),
    incidents: new Counter({
      name: 'b24mts_sending_incidents_total',
      help: 'Pauses and holds begun or ended, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    retention: new Counter({
      name: 'b24mts_retention_deleted_total',
      help: 'Final messages deleted by retention',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'b24mts_queue_depth',
      help: 'Messages queued or being sent (held ones excluded)',
      registers: [registry],
    }),
    oldestQueuedAge: new Gauge({
      name: 'b24mts_queue_oldest_age_seconds',
      help: 'Age of the oldest waiting (queued, held or sending) message; 0 when none waits',
      registers: [registry],
    }),
    messages: new Gauge({
      name: 'b24mts_messages',
      help: 'Waiting messages by state (queued, held, sending); final states are not counted here (history is never scanned): see the counters',
      labelNames: ['state'],
      registers: [registry],
    }),
    backlogMessages: new Gauge({
      name: 'b24mts_backlog_messages',
      help: 'Waiting messages by MTS contract, lane (transactional, marketing) and reason (rate, quiet_hours, scheduled, paused, held, no_contract, sending)',
      labelNames: ['contract', 'lane', 'reason'],
      registers: [registry],
    }),
    backlogOldestAge: new Gauge({
      name: 'b24mts_backlog_oldest_age_seconds',
      help: 'Age of the oldest waiting message, seconds; 0 when none waits',
      registers: [registry],
    }),
    backlogEta: new Gauge({
      name: 'b24mts_backlog_eta_seconds',
      help: "Seconds until a lane's waiting messages are sent at the contract's rate (transactional first, send times and quiet hours included); +Inf while blocked (paused contract, held alpha name)",
      labelNames: ['contract', 'lane'],
      registers: [registry],
    }),
    intakeLatency: new Histogram({
      name: 'b24mts_intake_duration_seconds',
      help: 'Handler time from request to committed reply',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
