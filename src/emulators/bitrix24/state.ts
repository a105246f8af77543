/** A provider registered with `messageservice.sender.add`. */
export interface SenderRecord {
  CODE: string;
  TYPE: string;
  HANDLER: string;
  NAME: unknown;
  DESCRIPTION?: unknown;
}

/** An automation rule registered with `bizproc.robot.add`. */
export interface RobotRecord {
  CODE: string;
  HANDLER: string;
  NAME: unknown;
  DESCRIPTION?: unknown;
  AUTH_USER_ID?: unknown;
  USE_SUBSCRIPTION?: string;
  PROPERTIES?: Record<string, unknown>;
  RETURN_PROPERTIES?: Record<string, unknown>;
  DOCUMENT_TYPE?: unknown;
  FILTER?: unknown;
  USE_PLACEMENT?: string;
}

/** A message the portal handed to a provider (it knows these ids; status updates need one). */
export interface MessageRecord {
  code: string;
  messageId: string;
  to: string;
  text: string;
  moduleId: string;
  /** Epoch ms. */
  at: number;
}

/** One `messageservice.message.status.update` call that was accepted. */
/** One widget bound with `placement.bind`. */
export interface PlacementRecord {
  placement: string;
  handler: string;
  title?: unknown;
  langAll?: unknown;
}

export interface StatusUpdateRecord {
  code: string;
  messageId: string;
  status: string;
  /** Epoch ms. */
  at: number;
}

/** One `bizproc.event.send` call that was accepted. */
export interface BizprocEventRecord {
  eventToken: string;
  returnValues: Record<string, unknown>;
  logMessage?: string;
  /** The robot the token was issued for. */
  code: string;
  documentId: string[];
  at: number;
}

/** An event token the portal issued to a robot call (`runRobot`). */
export interface EventTokenRecord {
  code: string;
  documentId: string[];
}

/** A `crm.timeline.logmessage.add` entry. */
export interface TimelineLogRecord {
  ID: number;
  entityTypeId: number;
  entityId: number;
  title: string;
  text: string;
  at: number;
}

export interface TimelineCommentRecord {
  ID: number;
  ENTITY_ID: number;
  ENTITY_TYPE: string;
  COMMENT: string;
  at: number;
}

/** A CRM user field (`crm.contact.userfield.add`), in the shape `*.userfield.list` returns. */
export interface UserFieldRecord {
  ID: string;
  ENTITY_ID: string;
  FIELD_NAME: string;
  USER_TYPE_ID: string;
  XML_ID: string | null;
  SORT: string;
  MULTIPLE: string;
  MANDATORY: string;
  SHOW_FILTER: string;
  SHOW_IN_LIST: string;
  EDIT_IN_LIST: string;
  IS_SEARCHABLE: string;
  SETTINGS: Record<string, unknown>;
  LABEL?: unknown;
}

/** A system notification the app sent (`im.notify.system.add`) that the user still has. */
export interface NotificationRecord {
  ID: number;
  USER_ID: number;
  MESSAGE: string;
  MESSAGE_OUT?: string;
  TAG?: string;
  SUB_TAG?: string;
  at: number;
}

/** A portal user, as `profile` shows it. */
export interface UserRecord {
  ID: string;
  NAME: string;
  LAST_NAME: string;
  ADMIN: boolean;
}

/** What the emulated portal holds besides CRM records and tokens. */
export class PortalState {
  /** User 1 administers the portal (and installs the app); user 2 is a manager. */
  readonly users = new Map<number, UserRecord>([
    [1, { ID: '1', NAME: 'Admin', LAST_NAME: 'Sandbox', ADMIN: true }],
    [2, { ID: '2', NAME: 'Manager', LAST_NAME: 'Sandbox', ADMIN: false }],
  ]);
  readonly senders = new Map<string, SenderRecord>();
  readonly robots = new Map<string, RobotRecord>();
  /** `event.bind` registrations: event name (upper case) → handler URLs. */
  readonly eventHandlers = new Map<string, Set<string>>();
  /** Widgets bound with placement.bind, by `PLACEMENT|HANDLER`. */
  readonly placements = new Map<string, PlacementRecord>();
  readonly messages = new Map<string, MessageRecord>();
  readonly statusUpdates: StatusUpdateRecord[] = [];

  /** The statuses set for one message, in the order they came. */
  statusesOf(messageId: string): string[] {
    return this.statusUpdates.filter((u) => u.messageId === messageId).map((u) => u.status);
  }

  /** The last status set for one message (searched from the newest: tests poll it). */
  latestStatus(messageId: string): string | undefined {
    for (let i = this.statusUpdates.length - 1; i >= 0; i--) {
      const u = this.statusUpdates[i];
      if (u?.messageId === messageId) return u.status;
    }
    return undefined;
  }
  readonly eventTokens = new Map<string, EventTokenRecord>();
  readonly bizprocEvents: BizprocEventRecord[] = [];
  readonly timelineComments: TimelineCommentRecord[] = [];
  readonly timelineLogs: TimelineLogRecord[] = [];
  readonly userFields: UserFieldRecord[] = [];
  /** Notifications users still have: one with a TAG removes earlier ones with that TAG. */
  notifications: NotificationRecord[] = [];
  readonly restRequests = { total: 0, byMethod: {} as Record<string, number> };
  /** Requests to the OAuth token endpoint. */
  oauthRequests = 0;
  private nextIds = { timeline: 1, userField: 1, notification: 1 };

  /** Adds a notification (replacing those with the same TAG); returns its id. */
  addNotification(n: Omit<NotificationRecord, 'ID'>): number {
    const ID = this.nextIds.notification++;
    if (n.TAG) this.notifications = this.notifications.filter((x) => x.TAG !== n.TAG);
    this.notifications.push({ ID, ...n });
    return ID;
  }

  /** `messages` is keyed by code and id: a message belongs to the provider it was sent through. */
  static messageKey(code: string, messageId: string): string {
    return `${code}\u0000${messageId}`;
  }

  countRequest(method: string): void {
    this.restRequests.total += 1;
    this.restRequests.byMethod[method] = (this.restRequests.byMethod[method] ?? 0) + 1;
  }

  nextTimelineId(): number {
    return this.nextIds.timeline++;
  }

  nextUserFieldId(): number {
    return this.nextIds.userField++;
  }

  /** What `ONAPPUPDATE` / `ONAPPUNINSTALL` take away: the app's providers and robots. */
  /** An app update or removal drops its providers, robots and event handlers (event-bind.md). */
  wipeAppRegistrations(): void {
    this.senders.clear();
    this.robots.clear();
    this.eventHandlers.clear();
    this.placements.clear();
  }
}
