import type { FastifyInstance } from 'fastify';
import { faultPatch, type ModeRequest, type MtsEmulatorMode, modeRequestSchema } from './mode.js';
import type { EmulatorState } from './state.js';

/** Paths of the emulator's own control API, outside MTS's: no auth, no faults, no latency. */
export const CONTROL_PREFIX = '/_emulator/';

/**
 * Applies a mode request: the named fault first (`none` restores the initial mode), then the
 * explicit fields, then the outcome of messages accepted from now on. Returns the new mode.
 */
export function applyModeRequest(state: EmulatorState, r: ModeRequest): MtsEmulatorMode {
  const { fault, outcome, ...fields } = r;
  if (fault === 'none') state.setMode(state.initialMode);
  else if (fault) state.setMode(faultPatch(fault, state.settings.mode));
  const patch = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  state.setMode(patch);
  if (outcome) state.settings.outcome = () => outcome;
  return state.modeSnapshot();
}

/**
 * `GET /_emulator/mode` answers the current switches; `POST /_emulator/mode` with a JSON
 * body (see modeRequestSchema) changes them and answers the result, or 400 naming the field.
 */
export function registerControlRoutes(app: FastifyInstance, state: EmulatorState): void {
  app.get(`${CONTROL_PREFIX}mode`, async () => ({ mode: state.settings.mode }));
  app.post(`${CONTROL_PREFIX}mode`, async (req, reply) => {
    const parsed = modeRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.join('.') || 'body'}: ${i.message}`,
      );
      return reply.code(400).send({ error: problems.join('; ') });
    }
    return { mode: applyModeRequest(state, parsed.data) };
  });
}
