import type { Command } from '@commander-js/extra-typings';
import type { IntegrityBaselineSummary } from '@palisade/api-client';
import { CliError, printJson } from './output.ts';

/** Exit status when a scan found changes (as `palisade fim check`). */
const EXIT_CHANGES = 4;

const collect = (v: string, prev: string[]): string[] => [...prev, v];

interface TargetOpts {
  computers?: string;
  smartFolder?: string;
  wait: string;
}

function waitMs(opts: { wait: string }): number {
  const s = Number(opts.wait);
  if (!Number.isFinite(s) || s < 0) throw new CliError('CLI_BAD_OPTION', '--wait must be a number of seconds', 2);
  return s * 1000;
}

/** Sends one integrity command through the manager and prints each computer's answer. */
async function run(
  cmd: Command<any, any, any>,
  computerIds: string[] | TargetOpts,
  opts: TargetOpts,
  kind: string,
  args: Record<string, unknown>,
  describe: (result: Record<string, unknown>) => string,
): Promise<Awaited<ReturnType<typeof import('./remote-firewall-block.ts').sendAndWait>>> {
  const { clientFrom, withApi } = await import('./api-connection.ts');
  const { sendAndWait, targetComputers } = await import('./remote-firewall-block.ts');
  const client = clientFrom(cmd);
  const json = Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
  const wait = waitMs(opts);
  const outcomes = await withApi(async () =>
    sendAndWait(client, Array.isArray(computerIds) ? computerIds : await targetComputers(client, computerIds), kind, args, wait),
  );
  if (json) printJson({ kind, args, outcomes });
  else {
    for (const o of outcomes) {
      process.stdout.write(
        o.status === 'succeeded'
          ? `${o.computerId}: ${describe((o.result ?? {}) as Record<string, unknown>)}\n`
          : `${o.computerId}: ${o.status}${o.error ? `: ${o.error}` : ''}\n`,
      );
    }
  }
  const failed = outcomes.filter((o) => o.status !== 'succeeded');
  if (failed.length > 0)
    throw new CliError('FIM_REMOTE_FAILED', `${failed.length} of ${outcomes.length} computers did not complete ${kind}`);
  return outcomes;
}

function requireTarget(opts: TargetOpts): void {
  if (!opts.computers && !opts.smartFolder) throw new CliError('CLI_BAD_OPTION', 'give --computers or --smart-folder', 2);
}

type Summary = Partial<IntegrityBaselineSummary>;

/** The integrity part of a computer's module status, as text. */
function printStatus(
  hostname: string,
  id: string,
  status: { state: string; reason?: string; details?: Record<string, unknown> } | undefined,
): void {
  const out: string[] = [`${hostname} (${id})`];
  if (!status) {
    out.push('  integrity: no status reported (module not configured, or an agent without it)');
    process.stdout.write(`${out.join('\n')}\n`);
    return;
  }
  out.push(`  integrity: ${status.state}${status.reason ? ` (${status.reason})` : ''}`);
  const d = status.details ?? {};
  const b = d.baseline as Summary | undefined;
  if (d.scanning) out.push('  a full scan is running');
  if (!b) {
    out.push(d.baselineReady === false ? '  baseline: being built' : '  baseline: no summary reported');
  } else {
    out.push(
      `  baseline: ${b.counts?.entities ?? 0} entities, built ${b.builtAt ?? '?'} (${b.buildReason ?? '?'}) in ${b.buildSeconds ?? '?'} s`,
    );
    const kinds = Object.entries(b.counts?.byKind ?? {})
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    if (kinds) out.push(`    by kind: ${kinds}`);
    const rules = Object.entries(b.counts?.byRule ?? {})
      .sort((x, y) => y[1] - x[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    if (rules) out.push(`    by rule: ${rules}`);
    if (b.lastFullScan)
      out.push(
        `  last full scan: ${b.lastFullScan.at} (${b.lastFullScan.reason}), ${b.lastFullScan.seconds} s, ${b.lastFullScan.entities} entities, ${b.lastFullScan.filesPerSecond} files/s`,
      );
    out.push(`  last change: ${b.lastChangeAt ?? 'none'}`);
    out.push(
      `  pending changes: ${b.pendingChanges ?? 0}${b.pendingChanges ? ' (palisade fim accept ... --all, or by --event / --path)' : ''}`,
    );
    if (b.contentCopies)
      out.push(
        `  text copies: ${b.contentCopies.files} files, ${(b.contentCopies.bytes / 1024).toFixed(1)} of ${(b.contentCopies.maxBytes / 1048576).toFixed(0)} MiB${b.contentCopies.refused ? `, ${b.contentCopies.refused} refused (store full)` : ''}`,
      );
  }
  if (d.nextScan) out.push(`  next scan: ${String(d.nextScan)}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/**
 * `palisade fim scan|rebuild-baseline|accept|status`: integrity monitoring on managed computers,
 * through the manager (commands to the agents' `integrity` module, status from their heartbeats).
 */
export function registerFimRemoteCommands(fim: Command): void {
  const COMPUTERS = ['--computers <ids>', 'comma-separated computer ids'] as const;
  const FOLDER = ['--smart-folder <id>', 'every computer of a smart folder'] as const;
  const JSON_OPT = ['--json', 'print the answers as JSON'] as const;

  /** scan and rebuild-baseline: a full walk of the file system on each computer, so a long wait. */
  const fullScanCommand = (name: string, description: string) =>
    fim
      .command(name)
      .description(description)
      .option(...COMPUTERS)
      .option(...FOLDER)
      .option(...JSON_OPT)
      .option('--wait <seconds>', 'how long to wait for the scans to finish', '900');

  fullScanCommand(
    'scan',
    'run a full integrity scan now on managed computers; changes are reported as events (exit 4 when any were found)',
  ).action(async (opts, cmd) => {
    requireTarget(opts);
    const outcomes = await run(cmd, opts, opts, 'integrity.scan', {}, (r) => {
      return `scanned ${r.entities} entities in ${r.seconds} s (${r.filesPerSecond} files/s): ${r.changes} changes, ${r.pendingChanges} pending`;
    });
    if (outcomes.some((o) => Number((o.result as { changes?: number } | null)?.changes ?? 0) > 0)) process.exitCode = EXIT_CHANGES;
  });

  fullScanCommand(
    'rebuild-baseline',
    'rebuild the integrity baseline on managed computers from what is on disk now, reporting nothing; clears pending changes',
  ).action(async (opts, cmd) => {
    requireTarget(opts);
    await run(
      cmd,
      opts,
      opts,
      'integrity.rebuild-baseline',
      {},
      (r) => `baseline rebuilt: ${r.entities} entities in ${r.seconds} s; ${r.pendingCleared} pending changes cleared`,
    );
  });

  fim
    .command('accept')
    .description(
      'accept reported changes: the entities named take their current state as baseline, without an event; --event alone finds its computer',
    )
    .option(...COMPUTERS)
    .option(...FOLDER)
    .option(...JSON_OPT)
    .option('--event <id>', 'an integrity event id (repeatable): accept the entity it reported', collect, [] as string[])
    .option(
      '--path <path>',
      'an absolute path (repeatable): accept the file, or the directory and everything below it',
      collect,
      [] as string[],
    )
    .option('--all', 'accept every pending change')
    .option('--wait <seconds>', 'how long to wait for the agents to answer', '120')
    .action(async (opts, cmd) => {
      if (!opts.all && opts.event.length === 0 && opts.path.length === 0)
        throw new CliError('CLI_BAD_OPTION', 'give --event, --path or --all', 2);
      for (const p of opts.path) if (!p.startsWith('/')) throw new CliError('CLI_BAD_OPTION', `--path ${p} must be absolute`, 2);
      const args = {
        ...(opts.event.length ? { eventIds: opts.event } : {}),
        ...(opts.path.length ? { paths: opts.path } : {}),
        ...(opts.all ? { all: true } : {}),
      };
      let computers: string[] | TargetOpts = opts;
      if (!opts.computers && !opts.smartFolder) {
        // Events name their computer: accept where each was reported.
        if (opts.path.length || opts.all) throw new CliError('CLI_BAD_OPTION', '--path and --all need --computers or --smart-folder', 2);
        const { clientFrom, withApi } = await import('./api-connection.ts');
        const client = clientFrom(cmd);
        const events = await withApi(() => Promise.all(opts.event.map((id) => client.getEvent(id))));
        const notIntegrity = events.filter((e) => e.module !== 'integrity');
        if (notIntegrity.length)
          throw new CliError('FIM_NOT_INTEGRITY_EVENT', `event ${notIntegrity[0]!.id} is a ${notIntegrity[0]!.module} event`, 2);
        computers = [...new Set(events.map((e) => e.computerId))];
      }
      await run(cmd, computers, opts, 'integrity.accept', args, (r) => {
        const folded = (r.folded as unknown[] | undefined)?.length ?? 0;
        const unknown = (r.unknownEventIds as string[] | undefined) ?? [];
        return `accepted ${r.accepted} entities, ${r.pendingRemoved} pending changes cleared${folded ? `, ${folded} newer changes folded in` : ''}; ${r.pendingChanges} still pending${unknown.length ? ` (not pending here: ${unknown.join(', ')})` : ''}`;
      });
    });

  fim
    .command('status')
    .description("a managed computer's integrity baseline: entities per kind and rule, build and last scan, pending changes")
    .requiredOption('--computer <id>', 'computer id (repeat the command for others, or see `palisade computers show`)')
    .option('--json', 'print the module status as JSON')
    .action(async (opts, cmd) => {
      const { clientFrom, withApi } = await import('./api-connection.ts');
      const c = await withApi(() => clientFrom(cmd).getComputer(opts.computer));
      const status = (c.modules as Record<string, { state: string; reason?: string; details?: Record<string, unknown> }>).integrity;
      if (opts.json || (cmd.optsWithGlobals() as { json?: boolean }).json) {
        printJson({ computerId: c.id, hostname: c.hostname, lastHeartbeat: c.lastHeartbeat, integrity: status ?? null });
      } else printStatus(c.hostname, c.id, status);
    });
}
