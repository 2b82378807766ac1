import { MODULE_MODES } from '@palisade/protocol';
import { type Static, Type } from 'typebox';

export const RECOMMENDATION_MODES = ['off', 'report', 'auto'] as const;
export type RecommendationMode = (typeof RECOMMENDATION_MODES)[number];

/**
 * What a policy (or a computer's override) may set: any part of the effective configuration.
 * Anything left out is inherited from the parent policy, and finally from the defaults.
 */
export const ModuleSettingsOverrideSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    mode: Type.Optional(Type.Enum(MODULE_MODES)),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const PolicySettingsSchema = Type.Object(
  {
    heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    spool: Type.Optional(Type.Object({ maxBytes: Type.Optional(Type.Integer({ minimum: 65536 })) }, { additionalProperties: false })),
    modules: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z-]{1,40}$' }), ModuleSettingsOverrideSchema)),
    /**
     * Manager-side: what recommendation scans do. `report` computes, `auto` also assigns and
     * unassigns rules, `off` skips scheduled scans. Not sent to agents.
     */
    recommendations: Type.Optional(Type.Enum(RECOMMENDATION_MODES)),
  },
  { additionalProperties: false },
);
export type PolicySettings = Static<typeof PolicySettingsSchema>;
