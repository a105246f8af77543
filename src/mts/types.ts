import type { ReportFields } from '../domain/status.js';
import type { Departure, NotSent } from './departures.js';

/** One SMS to submit to MTS Communicator (`POST /{client_id}/json2/simple`). */
export interface MtsSendRequest {
  /** Normalized phone, `+375XXXXXXXXX`; the client sends digits without `+`. */
  phone: string;
  /** Our message id (≤ 64 chars), sent as `extra_id`: the key for lookups after a crash. */
  extraId: string;
  text: string;
  /** Registered alpha name (≤ 11 GSM-7 characters). */
  alphaName: string;
  /** Seconds MTS keeps trying (300–259200). */
  ttl: number;
  /** Where MTS POSTs delivery reports (≤ 256 chars). */
  callbackUrl?: string;
  /** Free tag (≤ 64 chars). */
  tag?: string;
  /** Deferred start at MTS; we schedule ourselves, so this is rarely set. */
  startTime?: Date;
}

/**
 * A status as MTS reports it, from a DLR callback or a status query, in our field names. The
 * fields that decide the state (status, substatus, msgStatus — `msg_status` or the older
 * `hyber_status` —, accepted, sentVia, totalParts, deliveredParts) are the domain's
 * ReportFields, so a report maps to a state as is.
 */
export interface MtsReport extends ReportFields {
  messageId: string;
  extraId?: string;
  /** Digits without `+`, as MTS sends them. */
  phone?: string;
  /** Epoch milliseconds of the state change. */
  time?: number;
  /** The body as received, kept for the audit trail. */
  raw: unknown;
}

export interface MtsClient {
  /** Submits one message. Throws MtsError (see errors.ts) on anything but a `message_id`. */
  send(req: MtsSendRequest): Promise<{ messageId: string }>;
  /**
   * Submits one message from the departure thread at its rate slot (see departures.ts), or says
   * why it did not leave. Only clients made with a departure gate have it.
   */
  sendAt?(
    req: MtsSendRequest,
    at: Departure,
    signal?: AbortSignal,
  ): Promise<{ messageId: string } | { notSent: NotSent }>;
  /** `GET /{client_id}/dr/{message_id}/simple`; null when MTS answers 404 (unknown id). */
  statusByMessageId(messageId: string): Promise<MtsReport | null>;
  /** `GET /{client_id}/dr/external/{extra_id}/simple`; null when MTS has never seen that id. */
  statusByExtraId(extraId: string): Promise<MtsReport | null>;
  /** Closes the kept-alive connections; a later call opens new ones. */
  close(): void;
}
