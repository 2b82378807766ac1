import { type Command, Option } from '@commander-js/extra-typings';
import { isAgentError, requestModuleCommand } from '@palisade/agent';
import { CliError, printJson } from './output.ts';

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
  const ac = program.command('appcontrol').description('Application control on this host (talks to the running agent)');

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
      for (const [k, v] of Object.entries(st.details ?? {})) process.stdout.write(`${k}: ${String(v)}\n`);
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
      .description(`${action === 'allow' ? 'Allow' : 'Block'} software by SHA-256 on this computer (its local ruleset)`)
      .argument('<sha256>', 'SHA-256 of the file (sha256sum FILE)')
      .addOption(dataDirOption())
      .option('--json', 'print JSON')
      .action(async (hash, own, cmd) => {
        const r = await agentCommand(action, { sha256: sha256Arg(hash) }, own.dataDir);
        if (wantsJson(own, cmd)) printJson(r);
        else process.stdout.write(`${action === 'allow' ? 'allowed' : 'blocked'} ${String(r.sha256)} on this computer\n`);
      });
  }

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
