import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '@palisade/diagnostics';
import { loadIntegrityRules } from '@palisade/integrity';
import type { ModuleConfig } from '@palisade/protocol';
import { Cron } from 'croner';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

export const IntegritySettingsSchema = Type.Object(
  {
    /** Rule files on the host (YAML). Default, when neither this nor `rules` is given: the bundled Linux rules. */
    ruleFiles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' }), { maxItems: 64 })),
    /** Rules carried in the policy itself (the same YAML as a rule file), compiled by configure(). */
    rules: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200 }), yaml: Type.String({ maxLength: 1_048_576 }) },
          { additionalProperties: false },
        ),
        { maxItems: 64 },
      ),
    ),
    /** Application rules assigned by recommendation scans: `rules/integrity/apps/<id>/rules.yaml`, loaded after the others. */
    assignedRules: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 })),
    /** Prefix on disk for every rule path (a container's root file system); default `/`. */
    root: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' })),
    /** Full scans: a cron expression (croner, 5 or 6 fields) or a fixed interval. Default: every 12 hours. */
    schedule: Type.Optional(
      Type.Object(
        {
          cron: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          intervalSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 30 * 86400 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Scan as soon as the module starts with an existing baseline (catches changes made while the agent was stopped). */
    scanOnStart: Type.Optional(Type.Boolean()),
    realtime: Type.Optional(
      Type.Object(
        {
          /** Watch the roots of rules marked `realtime: true` (default true). */
          enabled: Type.Optional(Type.Boolean()),
          /** Quiet time before a burst of file events is rescanned. */
          debounceMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
          /** Longest a continuously changing path waits for its rescan. */
          maxDelayMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 600_000 })),
          /** Upper bound on watched directories (each is one inotify watch). */
          maxWatches: Type.Optional(Type.Integer({ minimum: 1, maximum: 500_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** IO limits of full scans (real-time rescans are small and not paced). Default: none. */
    limits: Type.Optional(
      Type.Object(
        {
          /** Entries examined (stat) per second. */
          filesPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
          /** Bytes read for hashing per second. */
          bytesPerSecond: Type.Optional(Type.Integer({ minimum: 65_536, maximum: 1e12 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Read xattrs, ACLs and file capabilities where the masks compare them (default true; needs perl, see docs). */
    xattrs: Type.Optional(Type.Boolean()),
    /** Hash worker threads of a full scan (default: up to 4, one per core). */
    hashWorkers: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
    /** Above this many changes in one scan, the rest are summed up in one `integrity.changes-truncated` event. */
    maxEventsPerScan: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    /** Copies of `reportChanges` files kept for text diffs: compressed total bound (default 8 MiB). */
    contentCopies: Type.Optional(
      Type.Object({ maxBytes: Type.Optional(Type.Integer({ minimum: 65_536, maximum: 1_073_741_824 })) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type IntegritySettingsInput = Static<typeof IntegritySettingsSchema>;

export interface IntegritySettings {
  ruleFiles: string[];
  rules: { name: string; yaml: string }[];
  root: string;
  schedule: { cron: string } | { intervalSeconds: number };
  scanOnStart: boolean;
  realtime: { enabled: boolean; debounceMs: number; maxDelayMs: number; maxWatches: number };
  hashWorkers?: number;
  xattrs: boolean;
  limits: { filesPerSecond?: number; bytesPerSecond?: number };
  maxEventsPerScan: number;
  contentCopiesMaxBytes: number;
}

/** The rules shipped with this agent: the default when a policy names none. */
export const BUNDLED_RULE_FILE = fileURLToPath(new URL('../../../../../rules/integrity/linux-default.yaml', import.meta.url));
/** Application rules shipped with this agent, one folder each, assigned by recommendation scans. */
export const BUNDLED_APP_RULES_DIR = fileURLToPath(new URL('../../../../../rules/integrity/apps', import.meta.url));

const FILE = 'modules.integrity';
const DEFAULT_INTERVAL_SECONDS = 12 * 3600;
const DEFAULT_CONTENT_COPIES_BYTES = 8 * 1_048_576;

function invalid(message: string): Diagnostic {
  return { code: 'FIM_SETTINGS_INVALID', message, severity: 'error', file: FILE };
}

/**
 * Validates `settings` without touching the disk: the schema, the cron expression and the inline
 * rules (compiled here, so a broken policy is refused before anything is applied). Rule files
 * are read when the module starts.
 */
export function parseIntegritySettings(config: ModuleConfig): { settings?: IntegritySettings; diagnostics: Diagnostic[] } {
  const s = config.settings;
  if (!Value.Check(IntegritySettingsSchema, s)) {
    return {
      diagnostics: Value.Errors(IntegritySettingsSchema, s)
        .slice(0, 20)
        .map((e) => invalid(`settings${e.instancePath}: ${e.message}`)),
    };
  }
  const diagnostics: Diagnostic[] = [];
  if (s.schedule?.cron !== undefined && s.schedule.intervalSeconds !== undefined)
    diagnostics.push(invalid('schedule: give either `cron` or `intervalSeconds`, not both'));
  if (s.schedule?.cron !== undefined) {
    try {
      new Cron(s.schedule.cron, { paused: true }).stop();
    } catch (e) {
      diagnostics.push(invalid(`schedule.cron: ${(e as Error).message}`));
    }
  }
  const names = new Set<string>();
  for (const r of s.rules ?? []) {
    if (names.has(r.name)) diagnostics.push(invalid(`rules: the name ${r.name} is used twice`));
    names.add(r.name);
    const loaded = loadIntegrityRules(r.yaml, `${FILE}.rules.${r.name}`);
    if (!loaded.ok) diagnostics.push(...loaded.diagnostics);
  }
  const debounceMs = s.realtime?.debounceMs ?? 500;
  const maxDelayMs = s.realtime?.maxDelayMs ?? Math.max(2000, debounceMs);
  if (maxDelayMs < debounceMs) diagnostics.push(invalid('realtime.maxDelayMs must not be below realtime.debounceMs'));
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const useBundled = s.ruleFiles === undefined && s.rules === undefined;
  // An id this agent does not ship (a manager newer than the agent) is said, not fatal.
  const assignedFiles: string[] = [];
  for (const id of s.assignedRules ?? []) {
    const file = join(BUNDLED_APP_RULES_DIR, id, 'rules.yaml');
    if (/^[a-z0-9][a-z0-9._-]*$/i.test(id) && existsSync(file)) assignedFiles.push(file);
    else
      diagnostics.push({
        code: 'FIM_ASSIGNED_RULE_UNKNOWN',
        message: `assigned rule ${id} is not shipped with this agent`,
        severity: 'warning',
        file: FILE,
      });
  }
  return {
    diagnostics,
    settings: {
      ruleFiles: [...(useBundled ? [BUNDLED_RULE_FILE] : (s.ruleFiles ?? [])), ...assignedFiles],
      rules: s.rules ?? [],
      root: s.root ?? '/',
      schedule:
        s.schedule?.cron !== undefined
          ? { cron: s.schedule.cron }
          : { intervalSeconds: s.schedule?.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS },
      scanOnStart: s.scanOnStart ?? true,
      realtime: {
        enabled: s.realtime?.enabled ?? true,
        debounceMs,
        maxDelayMs,
        maxWatches: s.realtime?.maxWatches ?? 8192,
      },
      ...(s.hashWorkers !== undefined ? { hashWorkers: s.hashWorkers } : {}),
      limits: s.limits ?? {},
      xattrs: s.xattrs ?? true,
      maxEventsPerScan: s.maxEventsPerScan ?? 1000,
      contentCopiesMaxBytes: s.contentCopies?.maxBytes ?? DEFAULT_CONTENT_COPIES_BYTES,
    },
  };
}
