import { type Static, Type } from 'typebox';
import { MODULE_MODES } from './module-names.ts';

/**
 * Settings of one module. `settings` is module-specific and validated by the module's own
 * `configure()`, so the protocol does not change when a module gains a setting.
 */
export const ModuleConfigSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    mode: Type.Enum(MODULE_MODES),
    settings: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type ModuleConfig = Static<typeof ModuleConfigSchema>;

/** The whole configuration an agent runs with: its policy chain merged with its own overrides. */
export const EffectiveConfigSchema = Type.Object(
  {
    heartbeatSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
    spool: Type.Object({ maxBytes: Type.Integer({ minimum: 65536 }) }, { additionalProperties: false }),
    modules: Type.Record(Type.String(), ModuleConfigSchema),
  },
  { additionalProperties: false },
);
export type EffectiveConfig = Static<typeof EffectiveConfigSchema>;
