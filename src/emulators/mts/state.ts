import type { MtsEmulatorMode } from './mode.js';
import type { DlrOutcome, OutcomeFn } from './options.js';
import type { FinalState } from './outcome.js';
import type { ValidSend } from './validate.js';

/** One accepted send, as tests inspect it. */
export interface SentRecord {
  messageId: string;
  extraId: string | undefined;
  /** Digits without `+`. */
  phone: string;
  text: string;
  alphaName: string;
  ttl: number;
  callbackUrl?: string;
  tag?: string;
  startTime?: string;
  /** Epoch ms when the emulator accepted it. */
  receivedAt: number;
  /** Which credentials the request carried. */
  auth: 'basic' | 'bearer';
  /** The request body exactly as parsed from the wire (for a batch: this message's part). */
  body: unknown;
}

/** One HTTP request, whatever its answer. */
export interface RequestRecord {
  /** Epoch ms of arrival. */
  at: number;
  method: string;
  url: string;
  kind: 'send' | 'batch' | 'status' | 'other';
}

/** One POST of a delivery report to a callback_url. */
export interface CallbackAttempt {
  messageId: string;
  url: string;
  attempt: number;
  at: number;
  /** HTTP status of the receiver's answer; undefined when the POST failed. */
  status?: number;
  error?: string;
  body: unknown;
}

/** A message the emulator holds: what was sent, its fate, and its state once final. */
export interface EmulatedMessage {
  record: SentRecord;
  parts: number;
  outcome: DlrOutcome;
  /** When the final state is due (epoch ms). */
  dueAt: number;
  final?: FinalState;
}

/** An injected answer for upcoming sends (`failNext`). */
export interface InjectedFailure {
  status: number;
  body?: unknown;
}

/** Settings changed at run time; `reset()` restores the initial ones. */
export interface MutableSettings {
  outcome: OutcomeFn;
  mode: MtsEmulatorMode;
}

function copySettings(s: MutableSettings): MutableSettings {
  return { outcome: s.outcome, mode: { ...s.mode, heldAlphaNames: [...s.mode.heldAlphaNames] } };
}

/** Everything the emulator remembers. Arrays are cleared in place so references stay live. */
export class EmulatorState {
  readonly sent: SentRecord[] = [];
  readonly requests: RequestRecord[] = [];
  readonly requestTimes: number[] = [];
  readonly callbacks: CallbackAttempt[] = [];
  readonly failures: InjectedFailure[] = [];
  private readonly byId = new Map<string, EmulatedMessage>();
  /** Arrival times of requests let through by the rate limit, for its sliding window. */
  private admitted: number[] = [];
  settings: MutableSettings;
  /** Aborted to release the requests hung by `mode.hang`. */
  private hangRelease = new AbortController();

  constructor(private readonly initial: MutableSettings) {
    this.settings = copySettings(initial);
  }

  /** The mode the emulator started with (what the `none` fault restores). */
  get initialMode(): MtsEmulatorMode {
    return copySettings(this.initial).mode;
  }

  /** A copy of the current mode, safe to hand out. */
  modeSnapshot(): MtsEmulatorMode {
    return copySettings(this.settings).mode;
  }

  /** Applies a mode change; turning `hang` off releases the requests it holds. */
  setMode(patch: Partial<MtsEmulatorMode>): MtsEmulatorMode {
    const wasHanging = this.settings.mode.hang;
    const held = patch.heldAlphaNames ?? this.settings.mode.heldAlphaNames;
    this.settings.mode = { ...this.settings.mode, ...patch, heldAlphaNames: [...held] };
    if (wasHanging && !this.settings.mode.hang) this.releaseHung();
    return this.settings.mode;
  }

  /** Aborted when the requests hung now may answer. */
  get hangSignal(): AbortSignal {
    return this.hangRelease.signal;
  }

  private releaseHung(): void {
    this.hangRelease.abort();
    this.hangRelease = new AbortController();
  }

  recordRequest(r: RequestRecord): void {
    this.requests.push(r);
    this.requestTimes.push(r.at);
  }

  /**
   * Sliding one-second window over admitted requests. Refused ones do not count, so a client
   * that backs off gets through, as with MTS's contractual rate.
   */
  admit(at: number, perSecond: number | null): boolean {
    if (perSecond === null) return true;
    this.admitted = this.admitted.filter((t) => at - t < 1000);
    if (this.admitted.length >= perSecond) return false;
    this.admitted.push(at);
    return true;
  }

  accept(
    messageId: string,
    v: ValidSend,
    meta: {
      auth: 'basic' | 'bearer';
      body: unknown;
      at: number;
      outcome: DlrOutcome;
      dueAt: number;
    },
  ): EmulatedMessage {
    const record: SentRecord = {
      messageId,
      extraId: v.extraId,
      phone: v.phone,
      text: v.text,
      alphaName: v.alphaName,
      ttl: v.ttl,
      ...(v.callbackUrl !== undefined ? { callbackUrl: v.callbackUrl } : {}),
      ...(v.tag !== undefined ? { tag: v.tag } : {}),
      ...(v.startTime !== undefined ? { startTime: v.startTime } : {}),
      receivedAt: meta.at,
      auth: meta.auth,
      body: meta.body,
    };
    const msg: EmulatedMessage = {
      record,
      parts: v.parts,
      outcome: meta.outcome,
      dueAt: meta.dueAt,
    };
    this.sent.push(record);
    this.byId.set(messageId, msg);
    return msg;
  }

  byMessageId(id: string): EmulatedMessage | undefined {
    return this.byId.get(id);
  }

  /**
   * The latest send with this extra_id (MTS does not deduplicate, and neither do we) among
   * those `include` accepts (default: all).
   */
  byExtraId(
    extraId: string,
    include: (m: EmulatedMessage) => boolean = () => true,
  ): EmulatedMessage | undefined {
    for (let i = this.sent.length - 1; i >= 0; i--) {
      const r = this.sent[i];
      const m = r?.extraId === extraId ? this.byId.get(r.messageId) : undefined;
      if (m && include(m)) return m;
    }
    return undefined;
  }

  messages(): IterableIterator<EmulatedMessage> {
    return this.byId.values();
  }

  countByExtraId(extraId: string): number {
    return this.sent.filter((r) => r.extraId === extraId).length;
  }

  /** Most requests (matching `filter`) that fell within any window of `windowMs`. */
  maxRequestsInWindow(windowMs = 1000, filter?: (r: RequestRecord) => boolean): number {
    const times = (filter ? this.requests.filter(filter) : this.requests)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    let max = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] as number) - (times[start] as number) >= windowMs) start++;
      max = Math.max(max, end - start + 1);
    }
    return max;
  }

  reset(): void {
    this.sent.length = 0;
    this.requests.length = 0;
    this.requestTimes.length = 0;
    this.callbacks.length = 0;
    this.failures.length = 0;
    this.byId.clear();
    this.admitted = [];
    this.settings = copySettings(this.initial);
    this.releaseHung();
  }
}
