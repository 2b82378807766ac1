import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '@palisade/diagnostics';
import type { ModuleConfig } from '@palisade/protocol';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { assignedLogSources } from './assigned-log-sources.ts';

/** Palisade's own log rules, shipped with the agent. */
export const BUNDLED_LOG_RULES_DIR = fileURLToPath(new URL('../../../../../rules/log', import.meta.url));

const FileSourceSchema = Type.Object(
  {
    /** Absolute path or glob (`*`, `?`, `[..]`, `{a,b}`, `**`). */
    path: Type.String({ minLength: 2, maxLength: 4096 }),
    /** `syslog`: the syslog header is pre-decoded; `json` / `raw`: the whole line goes to the decoders. */
    format: Type.Optional(Type.Union([Type.Literal('syslog'), Type.Literal('json'), Type.Literal('raw')])),
    /** What `<location>` rules see; default the file's path. */
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);

export const LogInspectionSettingsSchema = Type.Object(
  {
    files: Type.Optional(Type.Array(FileSourceSchema, { maxItems: 256 })),
    /** Present: follow the systemd journal (skipped, and said so, where there is none). */
    journald: Type.Optional(
      Type.Object(
        {
          /** systemd units to follow (`-u`); absent or empty: the whole journal. */
          units: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9:_.@\\\\-]+$', maxLength: 256 }), { maxItems: 256 })),
          /** A journal namespace (`journalctl --namespace`). */
          namespace: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
        },
        { additionalProperties: false },
      ),
    ),
    rules: Type.Optional(
      Type.Object(
        {
          /** Palisade's rules/log (default on, unless a Wazuh ruleset is given). */
          bundled: Type.Optional(Type.Boolean()),
          /** A Wazuh ruleset: `/var/ossec` (its ruleset/ and etc/ rules, decoders, lists) or a folder with decoders/ and rules/. */
          wazuhRuleset: Type.Optional(Type.String({ minLength: 2, maxLength: 4096 })),
          /** More folders of decoders, rules and lists/, loaded after the above. */
          dirs: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 4096 }), { maxItems: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Application rules assigned by recommendation scans (`rules/log/apps/<id>`): their log sources are read too. */
    assignedRules: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 })),
    /** Alerts below this rule level are not reported (Wazuh's log_alert_level; default 3). */
    minLevel: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
    /** Files found under a new pattern at start: `end` reads only what is appended (default), `beginning` the whole file. */
    startAt: Type.Optional(Type.Union([Type.Literal('end'), Type.Literal('beginning')])),
    pollIntervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000 })),
    /** Longest one line may spend in the rules; a slower line is skipped and reported. */
    lineBudgetMs: Type.Optional(Type.Integer({ minimum: 20, maximum: 60_000 })),
    maxLineBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1_048_576 })),
    /** How long a rotated-away file is still read after its last new data. */
    rotationGraceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  },
  { additionalProperties: false },
);
export type LogInspectionSettingsInput = Static<typeof LogInspectionSettingsSchema>;

export interface LogInspectionSettings {
  files: { path: string; format: 'syslog' | 'json' | 'raw'; location?: string }[];
  journald?: { units: string[]; namespace?: string };
  rules: { bundled: boolean; wazuhRuleset?: string; dirs: string[] };
  minLevel: number;
  startAt: 'end' | 'beginning';
  pollIntervalMs: number;
  lineBudgetMs: number;
  maxLineBytes: number;
  rotationGraceSeconds: number;
}

const FILE = 'modules.log-inspection';

function error(code: string, message: string): Diagnostic {
  return { code, message, severity: 'error', file: FILE };
}

/** Validates `settings` without touching the disk (folders and files are opened by start()). */
export function parseLogInspectionSettings(config: ModuleConfig): { settings?: LogInspectionSettings; diagnostics: Diagnostic[] } {
  const s = config.settings;
  if (!Value.Check(LogInspectionSettingsSchema, s)) {
    return {
      diagnostics: Value.Errors(LogInspectionSettingsSchema, s)
        .slice(0, 20)
        .map((e) => error('LOGINSP_SETTINGS_INVALID', `settings${e.instancePath}: ${e.message}`)),
    };
  }
  const diagnostics: Diagnostic[] = [];
  const files = s.files ?? [];
  const seen = new Set<string>();
  for (const [i, f] of files.entries()) {
    if (!isAbsolute(f.path))
      diagnostics.push(error('LOGINSP_SETTINGS_INVALID', `settings/files/${i}/path: ${f.path} is not an absolute path`));
    if (seen.has(f.path)) diagnostics.push(error('LOGINSP_SETTINGS_INVALID', `settings/files/${i}/path: ${f.path} is listed twice`));
    seen.add(f.path);
  }
  const wazuh = s.rules?.wazuhRuleset;
  const bundled = s.rules?.bundled ?? wazuh === undefined;
  for (const d of [...(wazuh ? [wazuh] : []), ...(s.rules?.dirs ?? [])])
    if (!isAbsolute(d)) diagnostics.push(error('LOGINSP_SETTINGS_INVALID', `settings/rules: ${d} is not an absolute path`));
  if (bundled && wazuh)
    // Both rulesets define the category templates (rule ids 1 and 2 with other categories): one of
    // them would lose its template and every rule below it.
    diagnostics.push(
      error(
        'LOGINSP_RULES_CONFLICT',
        'settings/rules: the bundled rules and a Wazuh ruleset cannot be loaded together (both define rules 1 and 2)',
      ),
    );
  if (!bundled && !wazuh && !s.rules?.dirs?.length)
    diagnostics.push(error('LOGINSP_NO_RULES', 'settings/rules: no rules selected (bundled is off and no ruleset or dirs given)'));
  if (diagnostics.length) return { diagnostics };
  // Sources of assigned application rules join the policy's own; a policy that follows the whole
  // journal (no units) already covers every unit.
  const assigned = assignedLogSources(s.assignedRules ?? [], BUNDLED_LOG_RULES_DIR);
  for (const id of assigned.unknown)
    diagnostics.push({
      code: 'LOGINSP_ASSIGNED_RULE_UNKNOWN',
      message: `assigned rule ${id} is not shipped with this agent`,
      severity: 'warning',
      file: FILE,
    });
  const ownUnits = s.journald ? (s.journald.units ?? []) : undefined;
  const units =
    ownUnits === undefined ? assigned.journaldUnits : ownUnits.length === 0 ? [] : [...new Set([...ownUnits, ...assigned.journaldUnits])];
  const journald =
    s.journald || assigned.journaldUnits.length
      ? { units, ...(s.journald?.namespace ? { namespace: s.journald.namespace } : {}) }
      : undefined;
  return {
    diagnostics,
    settings: {
      files: [
        ...files.map((f) => ({ path: f.path, format: f.format ?? 'syslog', ...(f.location ? { location: f.location } : {}) })),
        ...assigned.files.filter((f) => !seen.has(f.path)),
      ],
      ...(journald ? { journald } : {}),
      rules: { bundled, ...(wazuh ? { wazuhRuleset: wazuh } : {}), dirs: s.rules?.dirs ?? [] },
      minLevel: s.minLevel ?? 3,
      startAt: s.startAt ?? 'end',
      pollIntervalMs: s.pollIntervalMs ?? 500,
      lineBudgetMs: s.lineBudgetMs ?? 1000,
      maxLineBytes: s.maxLineBytes ?? 65_536,
      rotationGraceSeconds: s.rotationGraceSeconds ?? 5,
    },
  };
}
