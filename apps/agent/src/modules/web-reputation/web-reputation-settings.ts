import type { ModuleDiagnostic } from '../../agent-module.ts';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

const Listen = Type.Object(
  { host: Type.String({ default: '127.0.0.1' }), port: Type.Integer({ minimum: 0, maximum: 65535 }) },
  { additionalProperties: false },
);

export const WebReputationSettingsSchema = Type.Object(
  {
    /** Security level: high blocks suspicious and worse, medium highly suspicious and worse, low dangerous only. */
    level: Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')], { default: 'medium' }),
    blockUntested: Type.Boolean({ default: false }),
    feeds: Type.Array(
      Type.Object(
        {
          file: Type.String({ minLength: 1 }),
          name: Type.Optional(Type.String({ minLength: 1 })),
          list: Type.Optional(Type.Union([Type.Literal('block'), Type.Literal('allow')])),
          risk: Type.Optional(Type.String()),
          category: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** A feed file older than this is reported stale in the module status. */
    feedMaxAgeHours: Type.Number({ minimum: 1, default: 48 }),
    /** How often feed files are checked for a new version. */
    reloadSeconds: Type.Integer({ minimum: 1, default: 60 }),
    proxy: Type.Optional(
      Type.Object(
        {
          listen: Listen,
          /** Redirect this host's own outbound web traffic into the proxy (nftables, root). */
          transparent: Type.Optional(
            Type.Object(
              {
                httpPorts: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { default: [80] }),
                /** Outbound TLS to port 443 goes to this SNI listener (0: any free port). */
                tlsListenPort: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
                /** Users whose traffic is never redirected; must include the agent's own (root: 0). */
                exemptUids: Type.Array(Type.Integer({ minimum: 0 }), { default: [0] }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    dns: Type.Optional(
      Type.Object(
        {
          listen: Listen,
          upstream: Type.Object(
            { host: Type.String(), port: Type.Integer({ minimum: 1, maximum: 65535, default: 53 }) },
            { additionalProperties: false },
          ),
          /** nxdomain: the name does not exist; sinkhole: A 0.0.0.0 / AAAA :: (clients fail fast). */
          answer: Type.Union([Type.Literal('nxdomain'), Type.Literal('sinkhole')], { default: 'sinkhole' }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Names the proxy connects to without asking DNS (split horizon, or tests): name -> address. */
    hosts: Type.Record(Type.String(), Type.String(), { default: {} }),
  },
  { additionalProperties: false },
);
export type WebReputationSettings = Static<typeof WebReputationSettingsSchema>;

export function parseWebReputationSettings(raw: unknown): { settings?: WebReputationSettings; diagnostics: ModuleDiagnostic[] } {
  const value = Value.Default(WebReputationSettingsSchema, structuredClone(raw ?? {}));
  const errors = [...Value.Errors(WebReputationSettingsSchema, value)];
  if (errors.length > 0) {
    return {
      diagnostics: errors.slice(0, 10).map((e) => ({
        code: 'WEBREP_SETTINGS_INVALID',
        message: `${e.instancePath || '/'}: ${e.message}`,
        severity: 'error' as const,
        file: 'modules.web-reputation',
      })),
    };
  }
  const settings = value as WebReputationSettings;
  return { settings, diagnostics: [] };
}
