import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '@palisade/diagnostics';
import type { ModuleConfig } from '@palisade/protocol';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { assignedLogSources } from './assigned-log-sources.ts';
import type { CommandSpec } from './command-source.ts';
import { compileStartPattern, type MultilineSpec } from './line-grouper.ts';

/** Palisade's own log rules, shipped with the agent. */
export const BUNDLED_LOG_RULES_DIR = fileURLToPath(new URL('../../../../../rules/log', import.meta.url));

/** Per-source log formats (see docs/log-inspection.md#log-formats). */
export const LOG_FORMATS = ['syslog', 'json', 'raw', 'apache', 'nginx', 'audit'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const MultilineSchema = Type.Union([
  /** Wazuh `multi-line: N`: every N lines are one event, joined with spaces. */
  Type.Object({ lines: Type.Integer({ minimum: 2, maximum: 512 }) }, { additionalProperties: false }),
  /** Wazuh `multi-line-regex`: a line matching `start` (PCRE2) begins a new event. */
  Type.Object(
    {
      start: Type.String({ minLength: 1, maxLength: 1024 }),
      /** An event ends after this many lines even without a new start (default 200). */
      maxLines: Type.Optional(Type.Integer({ minimum: 2, maximum: 10_000 })),
      /** An unfinished event is sent when no line came for this long (default 5 s, like Wazuh). */
      timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
      /** How lines are joined (Wazuh's `replace`): `no-replace` keeps the newlines (default). */
      join: Type.Optional(Type.Union([Type.Literal('no-replace'), Type.Literal('none'), Type.Literal('wspace'), Type.Literal('tab')])),
    },
    { additionalProperties: false },
  ),
]);

const FileSourceSchema = Type.Object(
  {
    /** Absolute path or glob (`*`, `?`, `[..]`, `{a,b}`, `**`). */
    path: Type.String({ minLength: 2, maxLength: 4096 }),
    /**
     * `syslog`: the syslog header is pre-decoded; `json`, `raw`, `apache`, `nginx`: the whole line
     * goes to the decoders; `audit`: auditd lines of one event (same `msg=audit(…:ID)`) are joined.
     */
    format: Type.Optional(Type.Union(LOG_FORMATS.map((f) => Type.Literal(f)))),
    /** What `<location>` rules see; default the file's path. */
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** Join several lines into one event (stack traces): `{lines: N}` or `{start: regex, …}`. */
    multiline: Type.Optional(MultilineSchema),
  },
  { additionalProperties: false },
);

/**
 * Wazuh's `full_command` / `command` localfiles. Only the policy can define commands, and they
 * run as the agent's user (see docs/log-inspection.md#command-output).
 */
const CommandSourceSchema = Type.Object(
  {
    /** The program (absolute path) and its arguments; run without a shell. */
    command: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 64 }),
    /** Name in the event text (`ossec: output: 'ALIAS'`) and location (`command_ALIAS`); default the command line. */
    alias: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: "^[^'\\n\\r]+$" })),
    /** Seconds between runs (default 360, Wazuh's default frequency); the first run is at start. */
    intervalSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    /** `full`: the whole output is one event (full_command, default); `lines`: one event per line (command). */
    output: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('lines')])),
    /** A run taking longer is killed (with what it started); its output so far is used. Default 30. */
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** Output beyond this is cut and the command ended (default 64 KiB, the longest event). */
    maxOutputBytes: Type.Optional(Type.Integer({ minimum: 256, maximum: 1_048_576 })),
  },
  { additionalProperties: false },
);

export const LogInspectionSettingsSchema = Type.Object(
  {
    files: Type.Optional(Type.Array(FileSourceSchema, { maxItems: 256 })),
    commands: Type.Optional(Type.Array(CommandSourceSchema, { maxItems: 64 })),
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
  files: { path: string; format: LogFormat; location?: string; multiline?: MultilineSpec }[];
  commands: CommandSpec[];
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
    if (f.multiline && 'start' in f.multiline) {
      const re = compileStartPattern(f.multiline.start);
      if (typeof re === 'string') diagnostics.push(error('LOGINSP_SETTINGS_INVALID', `settings/files/${i}/multiline/start: ${re}`));
    }
    if (f.multiline && f.format === 'audit')
      diagnostics.push(error('LOGINSP_SETTINGS_INVALID', `settings/files/${i}: the audit format joins lines itself; drop multiline`));
  }
  const aliases = new Set<string>();
  for (const [i, c] of (s.commands ?? []).entries()) {
    if (!isAbsolute(c.command[0]!))
      diagnostics.push(
        error('LOGINSP_SETTINGS_INVALID', `settings/commands/${i}/command/0: ${c.command[0]} is not an absolute path (no PATH lookup)`),
      );
    const alias = c.alias ?? c.command.join(' ');
    if (aliases.has(alias)) diagnostics.push(error('LOGINSP_SETTINGS_INVALID', `settings/commands/${i}: alias "${alias}" is used twice`));
    if (/['\n\r]/.test(alias))
      diagnostics.push(error('LOGINSP_SETTINGS_INVALID', `settings/commands/${i}: the alias may not contain quotes or line breaks`));
    aliases.add(alias);
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
        ...files.map((f) => ({
          path: f.path,
          format: (f.format ?? 'syslog') as LogFormat,
          ...(f.location ? { location: f.location } : {}),
          ...(multilineSpec(f.format ?? 'syslog', f.multiline) ?? {}),
        })),
        ...assigned.files.filter((f) => !seen.has(f.path)),
      ],
      commands: (s.commands ?? []).map((c) => ({
        command: c.command,
        alias: c.alias ?? c.command.join(' '),
        intervalMs: (c.intervalSeconds ?? 360) * 1000,
        mode: c.output ?? 'full',
        timeoutMs: (c.timeoutSeconds ?? 30) * 1000,
        maxOutputBytes: c.maxOutputBytes ?? 65_536,
      })),
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

/** The line grouping a file source asks for: its multiline option, or the audit format's own. */
function multilineSpec(format: LogFormat, m: Static<typeof MultilineSchema> | undefined): { multiline: MultilineSpec } | undefined {
  if (format === 'audit') return { multiline: { kind: 'audit', timeoutMs: 2000 } };
  if (!m) return undefined;
  if ('lines' in m) return { multiline: { kind: 'lines', lines: m.lines } };
  return {
    multiline: { kind: 'regex', start: m.start, maxLines: m.maxLines ?? 200, timeoutMs: m.timeoutMs ?? 5000, join: m.join ?? 'no-replace' },
  };
}
