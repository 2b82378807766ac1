import { type EffectiveConfig, MODULE_NAMES } from '@palisade/protocol';

/** The root of every inheritance chain: nothing runs until a policy turns it on. */
export function defaultConfig(): EffectiveConfig {
  return {
    heartbeatSeconds: 60,
    spool: { maxBytes: 64 * 1024 * 1024 },
    modules: Object.fromEntries(MODULE_NAMES.map((m) => [m, { enabled: false, mode: 'off', settings: {} }])),
  };
}

/**
 * The quickstart policy: every module the host supports runs, but only reports. Nothing on the
 * machine is blocked, changed or quarantined until a person switches a module to `prevent`.
 */
export function quickstartPolicySettings() {
  return {
    heartbeatSeconds: 10,
    modules: Object.fromEntries(MODULE_NAMES.map((m) => [m, { enabled: true, mode: 'detect' as const }])),
  };
}
