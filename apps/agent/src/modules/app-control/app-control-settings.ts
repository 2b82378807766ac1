import type { Diagnostic } from '@palisade/diagnostics';
import { APP_CONTROL_MODES, type AppControlMode, loadRuleset, normalizeSha256, type Ruleset } from '@palisade/app-control';
import type { ModuleConfig } from '@palisade/protocol';
import { Type } from 'typebox';
import { Value } from 'typebox/value';

const FILE = 'modules.app-control';

const AbsPath = Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' });

export const AppControlSettingsSchema = Type.Object(
  {
    /** Overrides the module mode: `prevent` means block-unrecognized unless this says block-explicit. */
    mode: Type.Optional(Type.Union(APP_CONTROL_MODES.map((m) => Type.Literal(m)))),
    /** Inventory roots. */
    roots: Type.Optional(Type.Array(AbsPath, { maxItems: 64 })),
    /** Path patterns left out of the inventory (`*`, `**`, trailing `/`). */
    exclude: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { maxItems: 256 })),
    /** What fanotify watches. Default: every mounted local filesystem (see docs/app-control.md). */
    marks: Type.Optional(
      Type.Object(
        {
          mounts: Type.Optional(Type.Array(AbsPath, { maxItems: 256 })),
          filesystems: Type.Optional(Type.Array(AbsPath, { maxItems: 256 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** How long a process may wait for a verdict before it is allowed (fail-open). */
    decisionTimeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
    hashThreads: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
    rulesets: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 256 })),
    globalBlock: Type.Optional(Type.Array(Type.String(), { maxItems: 100_000 })),
    /** Maintenance until this time (ISO 8601): unknown software runs and joins the baseline. */
    maintenanceUntil: Type.Optional(Type.String({ maxLength: 40 })),
    /** Allow files a package database (dpkg, rpm) installed, while their content matches its record (default true). */
    packageOrigin: Type.Optional(Type.Boolean()),
    /** Every this many minutes, look for new or changed executables under the roots (not run yet) and report them as drift; 0 = off. */
    diskCheckMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080 })),
    /**
     * Set by the manager: shared rulesets a policy assigns that do not exist (any entry refuses
     * the configuration, so a typo never silently drops a block list).
     */
    unresolvedRulesets: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 256 })),
  },
  { additionalProperties: false },
);

export interface AppControlSettings {
  mode: AppControlMode;
  roots: string[];
  exclude: string[];
  marks?: { mounts: string[]; filesystems: string[] };
  decisionTimeoutMs: number;
  hashThreads: number;
  rulesets: Ruleset[];
  globalBlock: string[];
  maintenanceUntil?: number;
  packageOrigin: boolean;
  diskCheckMinutes: number;
}

export const DEFAULT_ROOTS = ['/usr', '/opt', '/bin', '/sbin', '/lib', '/lib64', '/usr/local'];
/** Pseudo and kernel filesystems: nothing on them is a program someone dropped. */
export const DEFAULT_EXCLUDE = ['/proc/', '/sys/', '/dev/', '/run/', '/var/lib/docker/', '/var/lib/containerd/'];

function invalid(message: string): Diagnostic {
  return { code: 'APPCTL_SETTINGS_INVALID', message, severity: 'error', file: FILE };
}

/** Validates the module's settings and rulesets (all-or-nothing), pure. */
export function parseAppControlSettings(config: ModuleConfig): { settings?: AppControlSettings; diagnostics: Diagnostic[] } {
  const s = config.settings;
  if (!Value.Check(AppControlSettingsSchema, s)) {
    return {
      diagnostics: Value.Errors(AppControlSettingsSchema, s)
        .slice(0, 20)
        .map((e) => invalid(`settings${e.instancePath}: ${e.message}`)),
    };
  }
  const diagnostics: Diagnostic[] = [];
  let mode: AppControlMode;
  if (!config.enabled || config.mode === 'off') mode = 'off';
  else if (config.mode === 'detect') {
    mode = 'detect';
    if (s.mode && s.mode !== 'detect' && s.mode !== 'off') {
      diagnostics.push({
        ...invalid(`settings.mode ${s.mode} needs the module in prevent mode; running detect only`),
        severity: 'warning',
      });
    }
    if (s.mode === 'off') mode = 'off';
  } else mode = s.mode && s.mode !== 'detect' ? s.mode : s.mode === 'detect' ? 'detect' : 'block-unrecognized';
  const rulesets: Ruleset[] = [];
  const ids = new Set<string>();
  (s.rulesets ?? []).forEach((raw, i) => {
    const r = loadRuleset(raw, `${FILE}.rulesets[${i}]`);
    diagnostics.push(...r.diagnostics);
    if (!r.ok) return;
    if (ids.has(r.value.id)) diagnostics.push({ ...invalid(`ruleset id ${r.value.id} appears twice`), code: 'APPCTL_RULESET_INVALID' });
    ids.add(r.value.id);
    rulesets.push(r.value);
  });
  const globalBlock: string[] = [];
  (s.globalBlock ?? []).forEach((h, i) => {
    const n = normalizeSha256(h);
    if (n) globalBlock.push(n);
    else diagnostics.push({ code: 'APPCTL_BAD_HASH', message: `globalBlock[${i}] is not a SHA-256`, severity: 'error', file: FILE });
  });
  for (const id of s.unresolvedRulesets ?? []) {
    diagnostics.push({
      code: 'APPCTL_RULESET_UNKNOWN',
      message: `the policy assigns ruleset ${JSON.stringify(id)}, which does not exist on the manager`,
      severity: 'error',
      file: FILE,
    });
  }
  let maintenanceUntil: number | undefined;
  if (s.maintenanceUntil !== undefined) {
    maintenanceUntil = Date.parse(s.maintenanceUntil);
    if (Number.isNaN(maintenanceUntil)) diagnostics.push(invalid('settings.maintenanceUntil must be an ISO 8601 time'));
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return {
    settings: {
      mode,
      roots: s.roots ?? DEFAULT_ROOTS,
      exclude: [...DEFAULT_EXCLUDE, ...(s.exclude ?? [])],
      ...(s.marks ? { marks: { mounts: s.marks.mounts ?? [], filesystems: s.marks.filesystems ?? [] } } : {}),
      decisionTimeoutMs: s.decisionTimeoutMs ?? 1000,
      hashThreads: s.hashThreads ?? 2,
      rulesets,
      globalBlock,
      ...(maintenanceUntil !== undefined ? { maintenanceUntil } : {}),
      packageOrigin: s.packageOrigin ?? true,
      diskCheckMinutes: s.diskCheckMinutes ?? 0,
    },
    diagnostics,
  };
}
