import { EVENT_SOURCES, SEVERITIES } from '@palisade/protocol';
import { type Static, Type } from 'typebox';

/**
 * A playbook: when events matching `trigger.filter` reach `threshold` within `windowSeconds` for
 * one key (the attacker's address, or the computer), its actions run once for that key.
 */
export const PlaybookFilterSchema = Type.Object(
  {
    modules: Type.Optional(Type.Array(Type.Enum(EVENT_SOURCES), { maxItems: 10 })),
    /** Event types; a trailing `*` matches a prefix (`ips.*`). */
    types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 })),
    minSeverity: Type.Optional(Type.Enum(SEVERITIES)),
    ruleIds: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 })),
    /** Only events of these computers. */
    computerIds: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 })),
    /** Only events of computers carrying these tags (every one must match exactly). */
    computerTags: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 256 }))),
  },
  { additionalProperties: false },
);
export type PlaybookFilter = Static<typeof PlaybookFilterSchema>;

export const PlaybookTriggerSchema = Type.Object(
  {
    filter: PlaybookFilterSchema,
    threshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1 })),
    windowSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, default: 60 })),
    /** `attacker`: events count per attacker address (events without one are ignored). */
    groupBy: Type.Optional(Type.Union([Type.Literal('attacker'), Type.Literal('computer')], { default: 'attacker' })),
  },
  { additionalProperties: false },
);
export type PlaybookTrigger = Static<typeof PlaybookTriggerSchema>;

const Duration = Type.Integer({ minimum: 60, maximum: 365 * 86_400 });
const CloudAccountRef = Type.String({ minLength: 1, maxLength: 200 });

export const WafBlockActionSchema = Type.Object(
  {
    type: Type.Literal('aws-waf-block-ip'),
    /** The cloud account (id or name) whose credentials reach the WAF. */
    cloudAccount: CloudAccountRef,
    region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' }),
    scope: Type.Union([Type.Literal('REGIONAL'), Type.Literal('CLOUDFRONT')]),
    ipSetName: Type.String({ minLength: 1, maxLength: 128 }),
    /** Found by name with ListIPSets when absent. */
    ipSetId: Type.Optional(Type.String({ minLength: 1, maxLength: 36 })),
    /** An IPv6 attacker needs an IPV6 set: this names it (same scope and region). */
    ipv6IpSetName: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    ipv6IpSetId: Type.Optional(Type.String({ minLength: 1, maxLength: 36 })),
    /** Unblocked after this many seconds; absent = until undone. */
    durationSeconds: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const FirewallBlockActionSchema = Type.Object(
  {
    type: Type.Literal('firewall-block-ip'),
    /** `source`: the computer that reported the event; or listed computers; or a smart folder's. */
    targets: Type.Union([
      Type.Literal('source'),
      Type.Object({ computerIds: Type.Array(Type.String(), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
      Type.Object({ smartFolderId: Type.String() }, { additionalProperties: false }),
    ]),
    durationSeconds: Duration,
  },
  { additionalProperties: false },
);

export const IsolateInstanceActionSchema = Type.Object(
  {
    type: Type.Literal('aws-isolate-instance'),
    /** Default: the account whose sync discovered the instance, or whose AWS account id it reports. */
    cloudAccount: Type.Optional(CloudAccountRef),
    isolationGroupName: Type.Optional(Type.String({ minLength: 1, maxLength: 255, default: 'palisade-isolation' })),
    detachFromAutoScalingGroup: Type.Optional(Type.Boolean({ default: true })),
    /** Undo attaches the instance to the group it was detached from again (AttachInstances: capacity + 1). */
    reattachOnUndo: Type.Optional(Type.Boolean({ default: true })),
    /**
     * After that re-attach, set the group's desired capacity back to what it was just before it
     * (SetDesiredCapacity): Auto Scaling then terminates one instance of its choosing (termination
     * policy), which may be the restored one or the replacement.
     */
    restoreDesiredCapacityOnUndo: Type.Optional(Type.Boolean({ default: false })),
    /** Snapshot the instance's EBS volumes, tagged with the incident, before anything changes. */
    snapshot: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const WebhookActionSchema = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
    /** HMAC-SHA256 key for the `X-Palisade-Signature` header; write-only. */
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const RunScanActionSchema = Type.Object(
  {
    type: Type.Literal('run-scan'),
    targets: Type.Union([
      Type.Literal('source'),
      Type.Object({ computerIds: Type.Array(Type.String(), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
      Type.Object({ smartFolderId: Type.String() }, { additionalProperties: false }),
    ]),
    /** Absolute paths the agent's anti-malware module scans (`anti-malware.scan`); `/` is a full scan. */
    paths: Type.Optional(Type.Array(Type.String({ pattern: '^/', maxLength: 4096 }), { minItems: 1, maxItems: 100, default: ['/'] })),
  },
  { additionalProperties: false },
);

export const PlaybookActionSchema = Type.Union([
  WafBlockActionSchema,
  FirewallBlockActionSchema,
  IsolateInstanceActionSchema,
  WebhookActionSchema,
  RunScanActionSchema,
]);
export type PlaybookAction = Static<typeof PlaybookActionSchema>;
export type WafBlockAction = Static<typeof WafBlockActionSchema>;
export type FirewallBlockAction = Static<typeof FirewallBlockActionSchema>;
export type IsolateInstanceAction = Static<typeof IsolateInstanceActionSchema>;
export type WebhookAction = Static<typeof WebhookActionSchema>;
export type RunScanAction = Static<typeof RunScanActionSchema>;
export type PlaybookActionType = PlaybookAction['type'];

export const PlaybookSafeguardsSchema = Type.Object(
  {
    /** Addresses never blocked: load balancers, NAT gateways, admin networks (CIDR or address). */
    allowList: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000, default: [] })),
    /** At most this many playbook runs per hour; further triggers are recorded as `rate-limited`. */
    maxRunsPerHour: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 20 })),
  },
  { additionalProperties: false },
);
export type PlaybookSafeguards = Static<typeof PlaybookSafeguardsSchema>;

export const PlaybookInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    enabled: Type.Optional(Type.Boolean()),
    trigger: PlaybookTriggerSchema,
    actions: Type.Array(PlaybookActionSchema, { minItems: 1, maxItems: 10 }),
    safeguards: Type.Optional(PlaybookSafeguardsSchema),
  },
  { additionalProperties: false },
);
export type PlaybookInput = Static<typeof PlaybookInputSchema>;

/** A trigger with its defaults filled in, as stored. */
export type NormalizedTrigger = Required<PlaybookTrigger>;
export type NormalizedSafeguards = Required<PlaybookSafeguards>;

/**
 * Fills the documented defaults in, once, before a playbook is stored: what is stored (and shown)
 * is exactly what runs.
 */
export function normalizeTrigger(t: PlaybookTrigger): NormalizedTrigger {
  return { filter: t.filter, threshold: t.threshold ?? 1, windowSeconds: t.windowSeconds ?? 60, groupBy: t.groupBy ?? 'attacker' };
}

export function normalizeSafeguards(s: PlaybookSafeguards | undefined): NormalizedSafeguards {
  return { allowList: s?.allowList ?? [], maxRunsPerHour: s?.maxRunsPerHour ?? 20 };
}

export function normalizeAction(a: PlaybookAction): PlaybookAction {
  if (a.type === 'aws-isolate-instance')
    return {
      ...a,
      isolationGroupName: a.isolationGroupName ?? 'palisade-isolation',
      detachFromAutoScalingGroup: a.detachFromAutoScalingGroup ?? true,
      snapshot: a.snapshot ?? false,
    };
  if (a.type === 'run-scan') return { ...a, paths: a.paths ?? ['/'] };
  return a;
}

export interface Playbook {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  trigger: NormalizedTrigger;
  actions: PlaybookAction[];
  safeguards: NormalizedSafeguards;
  createdAt: string;
  updatedAt: string;
}

/** What an action did; `undone`/`expired` once reversed, `undoing` while that is under way. */
export const PLAYBOOK_ACTION_STATUSES = [
  'succeeded',
  'failed',
  'skipped',
  'rate-limited',
  'undoing',
  'undone',
  'expired',
  'undo-failed',
] as const;
export type PlaybookActionStatus = (typeof PLAYBOOK_ACTION_STATUSES)[number];

export interface PlaybookActionRecord {
  id: string;
  playbookId: string;
  /** All actions of one trigger share the run id. */
  runId: string;
  triggerKey: string;
  actionIndex: number;
  actionType: PlaybookActionType | 'none';
  status: PlaybookActionStatus;
  /** What the action was asked to do (secrets removed). */
  inputs: Record<string, unknown>;
  /** What it did: the AWS resources touched, the state before, the commands queued. */
  result: Record<string, unknown>;
  error: string | null;
  computerId: string | null;
  eventIds: string[];
  createdAt: string;
  expiresAt: string | null;
  undoneAt: string | null;
  undoResult: Record<string, unknown> | null;
  undoable: boolean;
}
