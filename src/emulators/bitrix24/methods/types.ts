import type { Clock } from '../../../clock.js';
import type { CrmStore } from '../crm.js';
import type { PortalState } from '../state.js';

/** What a method handler may touch. */
export interface MethodContext {
  state: PortalState;
  crm: CrmStore;
  clock: Clock;
  /** The emulator's `client_id` (app.info's CODE). */
  clientId: string;
  /** The user whose token made the call. */
  userId: number;
  /** The portal's language (`app.info` LANGUAGE_ID). */
  language: string;
}

/** A method's answer: `result`, and `total` / `next` for list methods. */
export interface MethodReply {
  result: unknown;
  total?: number;
  next?: number;
}

/** Parameters as parsed from JSON or a PHP-style form: scalars may be strings. */
export type Params = Record<string, unknown>;

export type MethodHandler = (params: Params, ctx: MethodContext) => MethodReply;

export type MethodTable = Record<string, MethodHandler>;

/** A reply with only `result`. */
export const reply = (result: unknown): MethodReply => ({ result });

/** Reads a parameter case-insensitively: docs show both `EVENT_TOKEN` and `event_token`. */
export function param(params: Params, name: string): unknown {
  if (name in params) return params[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(params)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** A string parameter, or '' when absent or not a scalar. */
export function strParam(params: Params, name: string): string {
  const v = param(params, name);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** An object parameter, or {} when absent. */
export function objParam(params: Params, name: string): Record<string, unknown> {
  const v = param(params, name);
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}
