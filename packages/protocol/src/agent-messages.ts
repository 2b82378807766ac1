import { type Static, Type } from 'typebox';
import { EffectiveConfigSchema } from './effective-config.ts';
import { MODULE_STATES } from './module-names.ts';

const Str = (max = 255) => Type.String({ maxLength: max });

/** Cloud metadata an agent can see about itself (e.g. from the EC2 instance identity document). */
export const CloudMetadataSchema = Type.Object(
  {
    provider: Str(20),
    accountId: Type.Optional(Str()),
    region: Type.Optional(Str()),
    instanceId: Type.Optional(Str()),
    imageId: Type.Optional(Str()),
    vpcId: Type.Optional(Str()),
    subnetId: Type.Optional(Str()),
    securityGroups: Type.Optional(Type.Array(Str())),
    autoScalingGroup: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type CloudMetadata = Static<typeof CloudMetadataSchema>;

/** What an agent says about the host it runs on; sent at activation and with heartbeats. */
export const HostFactsSchema = Type.Object(
  {
    hostname: Str(),
    platform: Str(100),
    ips: Type.Array(Str(64), { maxItems: 64 }),
    agentVersion: Str(50),
    cloud: Type.Optional(CloudMetadataSchema),
    tags: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Str())),
  },
  { additionalProperties: false },
);
export type HostFacts = Static<typeof HostFactsSchema>;

export const ActivationRequestSchema = Type.Object(
  { token: Type.String({ minLength: 10, maxLength: 200 }), host: HostFactsSchema },
  { additionalProperties: false },
);
export type ActivationRequest = Static<typeof ActivationRequestSchema>;

/**
 * The agent's own credentials. The secret is shown once here; the manager keeps only its hash,
 * and from now on accepts nothing else from this agent (ADR 0003).
 */
export const ActivationResponseSchema = Type.Object({
  agentId: Type.String(),
  agentSecret: Type.String(),
  tenantId: Type.String(),
  heartbeatSeconds: Type.Integer(),
});
export type ActivationResponse = Static<typeof ActivationResponseSchema>;

export const ModuleStatusSchema = Type.Object(
  {
    state: Type.Enum(MODULE_STATES),
    reason: Type.Optional(Str(1000)),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type ModuleStatus = Static<typeof ModuleStatusSchema>;

export const HeartbeatRequestSchema = Type.Object(
  {
    host: HostFactsSchema,
    /** Hash of the configuration the agent runs now (`''` before the first fetch). */
    configHash: Str(100),
    modules: Type.Record(Type.String(), ModuleStatusSchema),
    spool: Type.Object({ pending: Type.Integer({ minimum: 0 }), dropped: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type HeartbeatRequest = Static<typeof HeartbeatRequestSchema>;

export const HeartbeatResponseSchema = Type.Object({
  /** The hash of the configuration the agent should run: fetch when it differs. */
  configHash: Type.String(),
  heartbeatSeconds: Type.Integer(),
  serverTime: Type.String(),
});
export type HeartbeatResponse = Static<typeof HeartbeatResponseSchema>;

export const ConfigResponseSchema = Type.Object({ hash: Type.String(), config: EffectiveConfigSchema });
export type ConfigResponse = Static<typeof ConfigResponseSchema>;
