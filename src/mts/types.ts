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

/** A status as MTS reports it, from a DLR callback or a status query, in our field names. */
export interface MtsReport {
  messageId: string;
  extraId?: string;
  /** Digits without `+`, as MTS sends them. */
  phone?: string;
  /** Epoch milliseconds of the state change. */
  time?: number;
  /** Numeric status (−1 pending, 2 delivered, 3 not delivered…) or a textual state (`DELIVRD`…). */
  status: number | string;
  substatus?: number;
  /**
   * MTS's detailed code (e.g. 23011 delivered, 35015 expired, 36031 undeliverable): the
   * 2022 name `msg_status`, or `hyber_status` in older MTS/Hyber documents (read alike).
   */
  msgStatus?: number;
  /** `accepted` of batch and job answers; false means MTS refused the message. */
  accepted?: boolean;
  sentVia?: string;
  totalParts?: number;
  deliveredParts?: number;
  /** The body as received, kept for the audit trail. */
  raw: unknown;
}

export interface MtsClient {
  /** Submits one message. Throws MtsError (see errors.ts) on anything but a `message_id`. */
  send(req: MtsSendRequest): Promise<{ messageId: string }>;
  /** `GET /{client_id}/dr/{message_id}/simple`; null when MTS answers 404 (unknown id). */
  statusByMessageId(messageId: string): Promise<MtsReport | null>;
  /** `GET /{client_id}/dr/external/{extra_id}/simple`; null when MTS has never seen that id. */
  statusByExtraId(extraId: string): Promise<MtsReport | null>;
}
