import { readFileSync } from 'node:fs';
import { type Command, Option } from '@commander-js/extra-typings';
import { isAgentError, requestModuleCommand } from '@palisade/agent';
import { AppControlClient, type AppControlDrift, type AppControlRule, type AppControlRuleset, PalisadeClient } from '@palisade/api-client';
import { type ConnectionOptions, nodeTransport, resolveConnection, withApi } from './api-connection.ts';
import { CliError, printJson } from './output.ts';
import { printTable } from './table-output.ts';

/** The program declares `--json` too; read ours together with the program's. */
function wantsJson(own: { json?: boolean }, cmd: { optsWithGlobals(): object }): boolean {
  return own.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json ?? false;
}

/** Runs an `app-control.*` command in the running agent; agent errors keep their codes. */
async function agentCommand(kind: string, args: Record<string, unknown>, dataDir: string | undefined): Promise<Record<string, unknown>> {
  try {
    return await requestModuleCommand(`app-control.${kind}`, args, { ...(dataDir ? { dataDir } : {}) });
  } catch (err) {
    if (isAgentError(err)) throw new CliError(err.code, err.message);
    const m = err instanceof Error ? err.message : String(err);
    const code = /^(APPCTL_[A-Z_]+)/.exec(m)?.[1];
    throw code ? new CliError(code, m) : err;
  }
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'agent data directory (default: /var/lib/palisade-agent as root, else ~/.palisade-agent)').env(
    'PALISADE_AGENT_DATA_DIR',
  );

function sha256Arg(value: string): string {
  const h = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(h)) throw new CliError('APPCTL_BAD_HASH', `${value} is not a SHA-256 (64 hex digits)`);
  return h;
}

/** `palisade appcontrol …`: the application control module of the agent running on this host. */
export function registerAppcontrolCommands(program: Command): void {
  const ac = program
    .command('appcontrol')
    .description('Application control: this host (talks to the running agent) and the manager (rulesets, drift review)');

  ac.command('inventory')
    .description('List the inventoried executables, libraries and scripts (the approved baseline)')
    .option('--path <prefix>', 'only files under this path')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const r = await agentCommand('inventory', {}, own.dataDir);
      const files = (r.files as { path: string; sha256: string; kind: string; size: number }[]).filter(
        (f) => !own.path || f.path.startsWith(own.path),
      );
      if (wantsJson(own, cmd)) printJson({ ...r, files });
      else {
        for (const f of files) process.stdout.write(`${f.sha256}  ${f.kind.padEnd(10)}  ${f.path}\n`);
        process.stdout.write(`${files.length} files (inventory of ${String(r.scannedAt)})\n`);
      }
    });

  ac.command('status')
    .description('Mode, baseline size, counters and the drift records (unknown or blocked software seen running)')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const r = await agentCommand('status', {}, own.dataDir);
      if (wantsJson(own, cmd)) {
        printJson(r);
        return;
      }
      const st = r.status as { state: string; reason?: string; details?: Record<string, unknown> };
      process.stdout.write(`state: ${st.state}${st.reason ? ` (${st.reason})` : ''}\n`);
      for (const [k, v] of Object.entries(st.details ?? {}))
        process.stdout.write(`${k}: ${v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
      const drift = r.drift as { path: string; sha256: string; verdict: string; blocked: boolean; count: number; access: string }[];
      process.stdout.write(`drift (${drift.length}):\n`);
      for (const d of drift) {
        process.stdout.write(
          `  ${d.blocked ? 'BLOCKED' : 'ran    '}  ${d.verdict.padEnd(7)}  ${d.sha256}  ${d.path} (${d.access}, ${d.count}x)\n`,
        );
      }
    });

  for (const action of ['allow', 'block'] as const) {
    ac.command(action)
      .description(
        `${action === 'allow' ? 'Allow' : 'Block'} software by SHA-256: on this computer (the running agent's local ruleset), or through the manager for one computer (--computer) or in a shared ruleset (--ruleset)`,
      )
      .argument('<sha256>', 'SHA-256 of the file (sha256sum FILE)')
      .option('--computer <id>', "through the manager: this computer's local ruleset")
      .option('--ruleset <id>', 'through the manager: a shared ruleset')
      .option('--description <text>', 'why (stored with the rule; manager only)')
      .addOption(dataDirOption())
      .option('--json', 'print JSON')
      .action(async (hash, own, cmd) => {
        const sha256 = sha256Arg(hash);
        if (own.computer || own.ruleset) {
          const target = scopeOf(own);
          const r = await withApi(() =>
            managerApi(cmd).decide({ sha256, action, ...target, ...(own.description ? { description: own.description } : {}) }),
          );
          if (wantsJson(own, cmd)) printJson(r);
          else process.stdout.write(`${decided(action, sha256, r.ruleset)}; ${r.driftClosed} open drift record(s) closed\n`);
          return;
        }
        const r = await agentCommand(action, { sha256 }, own.dataDir);
        if (wantsJson(own, cmd)) printJson(r);
        else process.stdout.write(`${action === 'allow' ? 'allowed' : 'blocked'} ${String(r.sha256)} on this computer\n`);
      });
  }

  registerRulesetCommands(ac);
  registerDriftCommands(ac);

  ac.command('check-disk')
    .description(
      'Look for new or changed executables under the roots that are not allowed (drift that has not run yet); the baseline does not change',
    )
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const r = await agentCommand('check-disk', {}, own.dataDir);
      if (wantsJson(own, cmd)) printJson(r);
      else
        process.stdout.write(
          `${String(r.files)} executables: ${String(r.added)} new and ${String(r.changed)} changed since the baseline; ${String(r.reported)} newly reported as drift\n`,
        );
    });

  ac.command('maintenance')
    .description('Start maintenance mode for a duration (software installed or run meanwhile joins the baseline), or end it')
    .argument('[duration]', 'e.g. 30m, 2h (at most 24h)', '30m')
    .option('--end', 'end maintenance now (re-inventories the roots)')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (duration, own, cmd) => {
      const r = await agentCommand('maintenance', own.end ? { end: true } : { duration }, own.dataDir);
      if (wantsJson(own, cmd)) printJson(r);
      else if (own.end)
        process.stdout.write(`maintenance ended: ${String(r.added)} new and ${String(r.changed)} changed files joined the baseline\n`);
      else process.stdout.write(`maintenance mode until ${String(r.until)}\n`);
    });
}

type Cmd = Command<any, any, any>;

/**
 * The manager's application-control API. `--data-dir` of these commands is the agent's, so the
 * manager connection comes from --url/--api-key/--ca or the environment, never from it.
 */
function managerApi(cmd: Cmd): AppControlClient {
  const { dataDir: _agentDir, ...globals } = cmd.optsWithGlobals() as ConnectionOptions;
  const { url, apiKey, caPem } = resolveConnection(globals);
  return new AppControlClient(new PalisadeClient({ url, apiKey, transport: nodeTransport(caPem) }));
}

function scopeOf(own: { computer?: string; ruleset?: string }): { computerId: string } | { rulesetId: string } {
  if (own.computer && own.ruleset) throw new CliError('CLI_BAD_OPTION', 'give --computer or --ruleset, not both', 2);
  return own.computer ? { computerId: own.computer } : { rulesetId: own.ruleset! };
}

function decided(action: 'allow' | 'block', sha256: string, r: AppControlRuleset): string {
  const where = r.scope === 'local' ? `computer ${r.computerId}` : `shared ruleset ${r.id}`;
  return `${action === 'allow' ? 'allowed' : 'blocked'} ${sha256} for ${where}`;
}

function ruleText(r: AppControlRule): string {
  const what = r.kind === 'hash' ? r.sha256 : r.kind === 'path' ? r.pattern : `package ${r.manager ?? 'any'}:${r.name ?? '*'}`;
  return `${r.action.padEnd(5)}  ${r.kind.padEnd(7)}  ${what}${r.description ? `  (${r.description})` : ''}`;
}

function readRules(file: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError('CLI_FILE_NOT_READABLE', `cannot read rules from ${file}: ${(err as Error).message}`, 2);
  }
  const rules = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown })?.rules;
  if (!Array.isArray(rules)) throw new CliError('CLI_BAD_OPTION', `${file} must hold a JSON array of rules (or { "rules": [...] })`, 2);
  return rules;
}

/** One rule from flags: --sha256, --path or --package, each with --action. */
function ruleFromFlags(o: {
  sha256?: string;
  path?: string;
  package?: string;
  manager?: string;
  action?: string;
  description?: string;
}): AppControlRule {
  const kinds = [o.sha256, o.path, o.package].filter((x) => x !== undefined).length;
  if (kinds !== 1) throw new CliError('CLI_BAD_OPTION', 'give exactly one of --sha256, --path or --package', 2);
  if (o.action !== 'allow' && o.action !== 'block') throw new CliError('CLI_BAD_OPTION', '--action must be allow or block', 2);
  const base = { action: o.action, ...(o.description ? { description: o.description } : {}) } as const;
  if (o.sha256 !== undefined) return { kind: 'hash', sha256: sha256Arg(o.sha256), ...base };
  if (o.path !== undefined) return { kind: 'path', pattern: o.path, ...base };
  if (o.manager !== undefined && o.manager !== 'dpkg' && o.manager !== 'rpm')
    throw new CliError('CLI_BAD_OPTION', '--manager must be dpkg or rpm', 2);
  return {
    kind: 'package',
    ...(o.package && o.package !== '*' ? { name: o.package } : {}),
    ...(o.manager ? { manager: o.manager as 'dpkg' | 'rpm' } : {}),
    ...base,
  };
}

function registerRulesetCommands(ac: Cmd): void {
  const rs = ac.command('rulesets').description('Application-control rulesets on the manager (shared per tenant, local per computer)');

  rs.command('list')
    .description('List rulesets and their rules')
    .option('--scope <scope>', 'shared or local')
    .option('--computer <id>', "only this computer's local ruleset")
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      if (own.scope !== undefined && own.scope !== 'shared' && own.scope !== 'local')
        throw new CliError('CLI_BAD_OPTION', '--scope must be shared or local', 2);
      const r = await withApi(() =>
        managerApi(cmd).listRulesets({
          ...(own.scope ? { scope: own.scope as 'shared' | 'local' } : {}),
          ...(own.computer ? { computerId: own.computer } : {}),
        }),
      );
      if (wantsJson(own, cmd)) {
        printJson(r);
        return;
      }
      for (const x of r.rulesets) {
        process.stdout.write(`${x.id}  (${x.scope}${x.computerId ? ` ${x.computerId}` : ''}) ${x.name}: ${x.rules.length} rule(s)\n`);
        for (const rule of x.rules) process.stdout.write(`    ${ruleText(rule)}\n`);
      }
      if (r.rulesets.length === 0) process.stdout.write('(none)\n');
    });

  rs.command('create')
    .description('Create a shared ruleset; assign it in a policy with modules.app-control.settings.sharedRulesets: ["ID"]')
    .argument('<id>', 'ruleset id: letters, digits, . _ -')
    .option('--name <name>', 'display name (default: the id)')
    .option('--description <text>', 'what it is for')
    .option('--rules-file <file>', 'JSON array of rules to start with')
    .option('--json', 'print JSON')
    .action(async (id, own, cmd) => {
      const rules = own.rulesFile ? (readRules(own.rulesFile) as AppControlRule[]) : [];
      const r = await withApi(() =>
        managerApi(cmd).createRuleset({
          id,
          ...(own.name ? { name: own.name } : {}),
          ...(own.description ? { description: own.description } : {}),
          rules,
        }),
      );
      if (wantsJson(own, cmd)) printJson(r);
      else process.stdout.write(`created ruleset ${r.id} with ${r.rules.length} rule(s)\n`);
    });

  rs.command('add-rule')
    .description('Add a rule to a ruleset (a hash rule replaces an earlier rule for the same hash)')
    .argument('<id>', 'ruleset id')
    .option('--sha256 <hash>', 'a hash rule')
    .option('--path <pattern>', 'a path rule (* within a segment, ** across, trailing / = below)')
    .option('--package <name>', 'a package-origin rule (name pattern, * = any package)')
    .option('--manager <dpkg|rpm>', 'package manager of a package rule (default: any)')
    .option('--action <allow|block>', 'what the rule does')
    .option('--description <text>', 'why')
    .option('--rules-file <file>', 'JSON array of rules instead of one from flags')
    .option('--json', 'print JSON')
    .action(async (id, own, cmd) => {
      const rules = own.rulesFile ? (readRules(own.rulesFile) as AppControlRule[]) : [ruleFromFlags(own)];
      const r = await withApi(() => managerApi(cmd).addRules(id, rules));
      if (wantsJson(own, cmd)) printJson(r);
      else process.stdout.write(`ruleset ${r.id}: ${r.rules.length} rule(s)\n`);
    });

  rs.command('delete')
    .description('Delete a ruleset (refused while a policy assigns it)')
    .argument('<id>', 'ruleset id')
    .option('--json', 'print JSON')
    .action(async (id, own, cmd) => {
      await withApi(() => managerApi(cmd).deleteRuleset(id));
      if (wantsJson(own, cmd)) printJson({ deleted: id });
      else process.stdout.write(`deleted ruleset ${id}\n`);
    });
}

function registerDriftCommands(ac: Cmd): void {
  const dr = ac.command('drift').description('Drift at the manager: new or changed software seen running, and its review');

  dr.command('list')
    .description('List drift, most recently seen first (default: open records of every computer)')
    .option('--computer <id>', 'one computer')
    .option('--status <status>', 'open, allowed, blocked or all', 'open')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const status = own.status;
      if (!['open', 'allowed', 'blocked', 'all'].includes(status))
        throw new CliError('CLI_BAD_OPTION', '--status must be open, allowed, blocked or all', 2);
      const limit = Number(own.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError('CLI_BAD_OPTION', '--limit must be 1-1000', 2);
      const r = await withApi(() =>
        managerApi(cmd).listDrift({
          ...(own.computer ? { computerId: own.computer } : {}),
          status: status as 'open',
          limit,
        }),
      );
      if (wantsJson(own, cmd)) {
        printJson(r);
        return;
      }
      printTable(
        r.drift.map((d: AppControlDrift) => ({
          id: d.id,
          computer: d.computerId,
          status: d.status,
          seen: d.blocked ? 'BLOCKED' : 'ran',
          path: d.path,
          sha256: d.sha256.slice(0, 16),
          package: d.package ? `${d.package.name}${d.package.intact ? '' : ' (modified)'}` : '',
          user: d.user ? (d.user.name ?? String(d.user.uid)) : '',
          lastSeen: d.lastSeen,
        })),
        ['id', 'computer', 'status', 'seen', 'path', 'sha256', 'package', 'user', 'lastSeen'],
      );
    });

  for (const action of ['allow', 'block'] as const) {
    dr.command(action)
      .description(
        `${action === 'allow' ? 'Allow' : 'Block'} reviewed drift: on its computer (default, or --computer for a SHA-256), or in a shared ruleset (--ruleset)`,
      )
      .argument('<drift-or-sha256>', 'a drift record id (from drift list), or a SHA-256 with --computer or --ruleset')
      .option('--computer <id>', "the computer's local ruleset")
      .option('--ruleset <id>', 'a shared ruleset')
      .option('--description <text>', 'why')
      .option('--json', 'print JSON')
      .action(async (ref, own, cmd) => {
        const api = managerApi(cmd);
        const description = own.description ? { description: own.description } : {};
        if (/^[0-9a-fA-F]{64}$/.test(ref)) {
          if (!own.computer && !own.ruleset)
            throw new CliError('CLI_BAD_OPTION', 'a SHA-256 needs --computer or --ruleset (a drift id knows its computer)', 2);
          const r = await withApi(() => api.decide({ sha256: ref.toLowerCase(), action, ...scopeOf(own), ...description }));
          if (wantsJson(own, cmd)) printJson(r);
          else process.stdout.write(`${decided(action, ref.toLowerCase(), r.ruleset)}; ${r.driftClosed} open drift record(s) closed\n`);
          return;
        }
        if (own.computer && own.ruleset) throw new CliError('CLI_BAD_OPTION', 'give --computer or --ruleset, not both', 2);
        if (own.computer) {
          // A drift record belongs to one computer: --computer only confirms which.
          const d = (await withApi(() => api.listDrift({ computerId: own.computer!, status: 'all', limit: 1000 }))).drift.find(
            (x) => x.id === ref,
          );
          if (!d) throw new CliError('APPCTL_DRIFT_NOT_FOUND', `computer ${own.computer} has no drift record ${ref}`);
        }
        const r = await withApi(() => api.reviewDrift(ref, { action, ...(own.ruleset ? { rulesetId: own.ruleset } : {}), ...description }));
        if (wantsJson(own, cmd)) printJson(r);
        else
          process.stdout.write(
            `${decided(action, r.drift.sha256, r.ruleset)} (${r.drift.path}); drift ${r.drift.status === 'open' ? 'stays open: the ruleset does not apply to its computer' : r.drift.status}\n`,
          );
      });
  }
}
