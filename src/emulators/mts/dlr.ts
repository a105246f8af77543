import type { Logger } from '../../log.js';
import type { ResolvedMtsEmulatorOptions } from './options.js';
import { finalStateFor } from './outcome.js';
import type { EmulatedMessage, EmulatorState } from './state.js';
import { dlrBody, type StatusField } from './wireReports.js';

/** setTimeout overflows past this and would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Moves accepted messages to their final state when due and POSTs the DLR, retrying a failed
 * or non-2xx callback with exponential backoff. Every timer is unref'd and tracked, so the
 * emulator never keeps the process alive and `stop()` leaves nothing behind.
 */
export class DlrDispatcher {
  private readonly finalizeTimers = new Map<string, NodeJS.Timeout>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private inFlight = new Set<Promise<void>>();
  private abort = new AbortController();

  constructor(
    private readonly state: EmulatorState,
    private readonly retry: ResolvedMtsEmulatorOptions['dlrRetry'],
    private readonly logger: Logger | undefined,
    private readonly statusField: StatusField = 'msg_status',
  ) {}

  /** Arms the message's final state for `msg.dueAt`. */
  schedule(msg: EmulatedMessage): void {
    // A pending message never becomes final, so it needs no timer.
    if (msg.outcome === 'pending') return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, msg.dueAt - Date.now()));
    const timer = setTimeout(() => {
      this.finalizeTimers.delete(msg.record.messageId);
      this.finalize(msg);
    }, delay);
    timer.unref();
    this.finalizeTimers.set(msg.record.messageId, timer);
  }

  /** Makes every due-later message final now and waits for the first POST of each DLR. */
  async deliverNow(): Promise<void> {
    for (const [id, timer] of this.finalizeTimers) {
      clearTimeout(timer);
      this.finalizeTimers.delete(id);
      const msg = this.state.byMessageId(id);
      if (msg) this.finalize(msg);
    }
    await Promise.all([...this.inFlight]);
  }

  /** Clears every timer and aborts callbacks in flight; the dispatcher stays usable. */
  reset(): void {
    for (const t of this.finalizeTimers.values()) clearTimeout(t);
    for (const t of this.retryTimers) clearTimeout(t);
    this.finalizeTimers.clear();
    this.retryTimers.clear();
    this.abort.abort();
    this.abort = new AbortController();
    this.inFlight = new Set();
  }

  private finalize(msg: EmulatedMessage): void {
    if (msg.final) return;
    msg.final = finalStateFor(msg.outcome, msg.parts, Date.now());
    if (msg.final && msg.record.callbackUrl) this.post(msg, msg.record.callbackUrl, 1);
  }

  private post(msg: EmulatedMessage, url: string, attempt: number): void {
    // Checked at every attempt: disabling DLRs also drops retries already planned.
    if (!this.state.settings.mode.dlr) return;
    const p = this.attempt(msg, url, attempt).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async attempt(msg: EmulatedMessage, url: string, attempt: number): Promise<void> {
    const body = dlrBody(msg, this.statusField);
    const signal = this.abort.signal;
    const record = { messageId: msg.record.messageId, url, attempt, at: Date.now(), body };
    let ok = false;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.retry.timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      ok = res.ok;
      this.state.callbacks.push({ ...record, status: res.status });
    } catch (err) {
      if (signal.aborted) return; // stopped or reset: not a failure of the receiver
      this.state.callbacks.push({
        ...record,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    if (ok || signal.aborted) return;
    if (attempt >= this.retry.maxAttempts) {
      this.logger?.warn(
        { messageId: msg.record.messageId, url, attempt },
        'MTS emulator: DLR given up',
      );
      return;
    }
    const wait = this.retry.baseMs * 2 ** (attempt - 1);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.post(msg, url, attempt + 1);
    }, wait);
    timer.unref();
    this.retryTimers.add(timer);
  }
}
