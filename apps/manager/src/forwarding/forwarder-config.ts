import { DEAD_LETTER_REASONS, type DeadLetterReason, EVENT_SOURCES, type ForwarderDeadLetter, SEVERITIES } from '@palisade/protocol';
import { type Static, Type } from 'typebox';

export const FORWARDER_TYPES = ['syslog', 'webhook', 'sns'] as const;
export type ForwarderType = (typeof FORWARDER_TYPES)[number];
export const SYSLOG_PROTOCOLS = ['udp', 'tcp', 'tls'] as const;
export const SYSLOG_FORMATS = ['cef', 'leef', 'json'] as const;
export type SyslogFormat = (typeof SYSLOG_FORMATS)[number];

/** Which events a forwarder takes; every field that is present must match (AND), values within a field OR. */
export const ForwarderFilterSchema = Type.Object(
  {
    modules: Type.Optional(Type.Array(Type.Enum(EVENT_SOURCES), { minItems: 1 })),
    minSeverity: Type.Optional(Type.Enum(SEVERITIES)),
    types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1 })),
    /** Computer groups (the group a computer was activated into). */
    groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type ForwarderFilter = Static<typeof ForwarderFilterSchema>;

const HostPort = Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s\\[\\]]+):[0-9]{1,5}$', maxLength: 300 });

export const SyslogSettingsSchema = Type.Object(
  {
    protocol: Type.Enum(SYSLOG_PROTOCOLS),
    address: HostPort,
    format: Type.Enum(SYSLOG_FORMATS),
    /** Header layout: RFC 5424 (default) or the older BSD RFC 3164. */
    rfc: Type.Optional(Type.Union([Type.Literal('5424'), Type.Literal('3164')])),
    /** Syslog facility 0-23 (default 16, local0). */
    facility: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
    /** TLS only: CA bundle that signs the receiver's certificate (default: the system's roots). */
    caPem: Type.Optional(Type.String({ maxLength: 100_000 })),
    /** TLS only: name to verify in the receiver's certificate (default: the host of `address`). */
    serverName: Type.Optional(Type.String({ maxLength: 255 })),
    /** TLS only: client certificate for receivers that require mutual TLS (key in `clientKeyPem`). */
    clientCertPem: Type.Optional(Type.String({ maxLength: 100_000 })),
  },
  { additionalProperties: false },
);
export type SyslogSettings = Static<typeof SyslogSettingsSchema>;

export const WebhookSettingsSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
    /** For https receivers signed by a private CA. */
    caPem: Type.Optional(Type.String({ maxLength: 100_000 })),
  },
  { additionalProperties: false },
);
export type WebhookSettings = Static<typeof WebhookSettingsSchema>;

export const SnsSettingsSchema = Type.Object(
  {
    topicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$' }),
    /** Default: the region of the topic ARN. */
    region: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$', maxLength: 40 })),
    /** Another SNS endpoint (VPC endpoint, a test server). */
    endpoint: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2000 })),
    /** Access key id; without one the AWS default chain is used (instance role, environment). */
    accessKeyId: Type.Optional(Type.String({ minLength: 16, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type SnsSettings = Static<typeof SnsSettingsSchema>;

/** Secrets, stored apart from the settings and never returned by the API. */
export interface ForwarderSecrets {
  /** webhook: HMAC key. */
  secret?: string;
  /** sns: secret access key. */
  secretAccessKey?: string;
  /** syslog TLS: private key of `clientCertPem`. */
  clientKeyPem?: string;
}

export type ForwarderSettings = SyslogSettings | WebhookSettings | SnsSettings;

/**
 * When a queued event gives up and moves to the forwarder's dead letters, besides a receiver's
 * definite refusal (which always does). Null = no limit: the event is retried until delivered.
 */
export const DeadLetterPolicySchema = Type.Object(
  {
    /** Failed delivery attempts after which the event is dead-lettered. */
    maxAttempts: Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()]),
    /** Seconds since it was queued after which an undelivered event is dead-lettered instead of sent. */
    maxAgeSeconds: Type.Union([Type.Integer({ minimum: 60, maximum: 31_536_000 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type DeadLetterPolicy = Static<typeof DeadLetterPolicySchema>;
export const NO_DEAD_LETTER_LIMITS: DeadLetterPolicy = { maxAttempts: null, maxAgeSeconds: null };

/** One dead-lettered event of a forwarder, as the API shows it. */
export type DeadLetter = ForwarderDeadLetter;
export { DEAD_LETTER_REASONS, type DeadLetterReason };

export interface Forwarder {
  id: string;
  name: string;
  type: ForwarderType;
  settings: ForwarderSettings;
  filter: ForwarderFilter;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** Names of the secrets that are set (never their values). */
  secretsSet: string[];
  deadLetterPolicy: DeadLetterPolicy;
  delivery: {
    pending: number;
    /** Events in the dead-letter table (`palisade forwarders dead-letters list`). */
    deadLetters: number;
    failures: number;
    lastError: string | null;
    nextAttemptAt: string | null;
    lastSuccessAt: string | null;
  };
}

/** Region of an SNS topic ARN (`arn:aws:sns:<region>:<account>:<name>`). */
export function topicRegion(topicArn: string): string {
  return topicArn.split(':')[3] ?? '';
}
