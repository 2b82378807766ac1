import { join, resolve } from 'node:path';
import { type Command, Option } from '@commander-js/extra-typings';
import {
  type AgentStatusReport,
  activateAgent,
  getAgentStatus,
  isAgentError,
  dataDirPaths,
  QuarantineVault,
  type QuarantineRecord,
  requestModuleCommand,
  requestTestEvents,
  resolveDataDir,
  runAgent,
} from '@palisade/agent';
import { CliError, printJson } from './output.ts';

/**
 * `palisade` itself declares `--json` and `--ca` for the API commands, and commander hands an
 * option to the program when both declare it; read ours together with the program's.
 */
function withGlobals<T extends object>(opts: T, cmd: { optsWithGlobals(): object }): T & { json?: boolean; ca?: string } {
  const globals = cmd.optsWithGlobals() as { json?: boolean; ca?: string };
  const own = opts as T & { json?: boolean; ca?: string };
  return { ...opts, json: own.json ?? globals.json, ca: own.ca ?? globals.ca };
}

/** Agent errors keep their stable code on the way out of the CLI. */
async function asCli<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isAgentError(err)) throw new CliError(err.code, err.message);
    throw err;
  }
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new CliError('AGENT_BAD_ARGUMENT', `${name} must be a positive integer`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new CliError('AGENT_BAD_ARGUMENT', `${name} must be a positive number`);
    return n;
  };
}

function parseTags(list: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError('AGENT_BAD_ARGUMENT', `--tag wants key=value, got ${JSON.stringify(item)}`);
    tags[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return tags;
}

function ago(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return `${iso} (${s} s ago)`;
}

export function formatAgentStatus(s: AgentStatusReport): string {
  const lines = [
    `agent       ${s.agentId} (tenant ${s.tenantId}, version ${s.agentVersion}, pid ${s.pid})`,
    `data dir    ${s.dataDir}`,
    `manager     ${s.managerUrl}: ${s.connection.state}, last contact ${ago(s.connection.lastContactAt)}`,
  ];
  if (s.connection.lastError && s.connection.state !== 'connected') {
    lines.push(`last error  ${s.connection.lastError.code}: ${s.connection.lastError.message}`);
  }
  lines.push(
    `heartbeat   every ${s.heartbeatSeconds} s, last ${s.lastHeartbeat ? `${ago(s.lastHeartbeat.at)} ${s.lastHeartbeat.ok ? 'ok' : `failed: ${s.lastHeartbeat.error ?? ''}`}` : 'none yet'}`,
    `config      ${s.configHash || '(none yet)'}`,
  );
  if (s.lastConfigError) {
    const d = s.lastConfigError.diagnostics[0];
    lines.push(`refused     ${s.lastConfigError.hash}: ${d ? `${d.code}: ${d.message}` : 'invalid'}`);
  }
  const sp = s.spool;
  lines.push(
    `spool       ${sp.pending} pending (${sp.pendingBytes} of ${sp.maxBytes} bytes), ${sp.dropped} dropped, ${sp.rejected} rejected, ${sp.acked} delivered`,
  );
  const modules = Object.entries(s.modules);
  if (modules.length === 0) lines.push('modules     none registered');
  else {
    lines.push('modules');
    for (const [name, st] of modules) lines.push(`  ${name.padEnd(16)} ${st.state.padEnd(12)} ${st.reason ?? ''}`.trimEnd());
  }
  return lines.join('\n');
}

export function formatQuarantine(entries: QuarantineRecord[]): string {
  if (entries.length === 0) return 'the quarantine is empty';
  return entries
    .map(
      (e) =>
        `${e.id}  ${e.quarantinedAt}  ${e.originalPath}  ${e.size} bytes  ${e.detections.map((d) => d.name).join(', ')}  (${e.trigger})`,
    )
    .join('\n');
}

/**
 * Runs a quarantine operation in the running agent when its anti-malware module runs (so the
 * module records it and sends the event); otherwise directly on the vault in the data dir,
 * so a file can be listed and restored while the agent or the module is stopped.
 */
async function quarantineOperation(
  dataDir: string | undefined,
  kind: 'quarantine-list' | 'quarantine-restore' | 'quarantine-delete',
  args: Record<string, unknown>,
): Promise<{ via: 'agent' | 'vault'; result: Record<string, unknown> }> {
  let moduleRunning = false;
  try {
    moduleRunning = (await getAgentStatus({ dataDir })).modules['anti-malware']?.state === 'running';
  } catch (err) {
    if (!isAgentError(err) || err.code !== 'AGENT_NOT_RUNNING') throw err;
  }
  if (moduleRunning) return { via: 'agent', result: await requestModuleCommand(`anti-malware.${kind}`, args, { dataDir }) };
  const vault = new QuarantineVault(join(dataDirPaths(resolveDataDir(dataDir)).modules, 'anti-malware'));
  const id = String(args.id ?? '');
  if (kind === 'quarantine-list') return { via: 'vault', result: { entries: await vault.list() } };
  if (kind === 'quarantine-delete') return { via: 'vault', result: { deleted: await vault.delete(id) } };
  const to = typeof args.to === 'string' ? args.to : undefined;
  return { via: 'vault', result: { restored: await vault.restore(id, { ...(to ? { to } : {}), overwrite: args.overwrite === true }) } };
}

/** `palisade agent …`: activate, run the daemon in the foreground, and talk to it over its socket. */
export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('Run and inspect the Palisade agent on this host');
  const dataDirOption = () =>
    new Option('--data-dir <dir>', 'agent data directory (default: /var/lib/palisade-agent as root, else ~/.palisade-agent)').env(
      'PALISADE_AGENT_DATA_DIR',
    );

  agent
    .command('activate')
    .description('Register this host with a manager and store the agent credentials')
    .requiredOption('--manager <url>', 'manager URL, e.g. https://manager.example:4119')
    .addOption(new Option('--token <token>', 'activation token').env('PALISADE_ACTIVATION_TOKEN').makeOptionMandatory())
    .option('--ca <file>', "PEM file with the manager's CA certificate (copied into the data dir)")
    .addOption(dataDirOption())
    .addOption(
      new Option('--cloud <provider>', "read this cloud's instance metadata (account, region, instance, VPC, ASG) and report it").choices([
        'aws',
      ] as const),
    )
    .option('--tag <key=value...>', 'host tag sent with activation and every heartbeat (repeatable)')
    .option('--force', 'replace an existing identity', false)
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const opts = withGlobals(own, cmd);
      const outcome = await asCli(() =>
        activateAgent({
          managerUrl: opts.manager,
          token: opts.token,
          caFile: opts.ca,
          dataDir: opts.dataDir,
          force: opts.force,
          tags: parseTags(opts.tag ?? []),
          cloud: opts.cloud,
        }),
      );
      if (opts.json) printJson(outcome);
      else {
        process.stdout.write(
          `activated agent ${outcome.agentId} (tenant ${outcome.tenantId}) with ${outcome.managerUrl}\n` +
            `identity stored in ${outcome.identityFile}; start it with: palisade agent start --data-dir ${outcome.dataDir}\n`,
        );
      }
    });

  agent
    .command('start')
    .description('Run the agent daemon in the foreground (SIGTERM/SIGINT stop it cleanly)')
    .addOption(dataDirOption())
    .addOption(
      new Option('--inventory-interval <seconds>', 'software inventory report interval (default 6 h; 0: only on request)')
        .env('PALISADE_AGENT_INVENTORY_INTERVAL')
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0) throw new CliError('AGENT_BAD_ARGUMENT', '--inventory-interval must be 0 or more seconds');
          return n;
        }),
    )
    .action(async (opts) => {
      const handle = await asCli(() =>
        runAgent({
          dataDir: opts.dataDir,
          handleSignals: true,
          ...(opts.inventoryInterval !== undefined ? { inventoryIntervalMs: opts.inventoryInterval * 1000 } : {}),
        }),
      );
      await handle.stopped;
    });

  agent
    .command('status')
    .description('Show the running agent: identity, manager link, config, modules, spool')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const opts = withGlobals(own, cmd);
      const status = await asCli(() => getAgentStatus({ dataDir: opts.dataDir }));
      if (opts.json) printJson(status);
      else process.stdout.write(`${formatAgentStatus(status)}\n`);
    });

  agent
    .command('test-events')
    .description('Make the running agent emit N synthetic events (module system, type test) to prove delivery')
    .requiredOption('--count <n>', 'number of events', positiveInt('--count'))
    .option('--rate <r>', 'events per second (default: as fast as possible)', positiveNumber('--rate'))
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const opts = withGlobals(own, cmd);
      const result = await asCli(() => requestTestEvents({ count: opts.count, rate: opts.rate }, { dataDir: opts.dataDir }));
      if (opts.json) printJson(result);
      else {
        process.stdout.write(
          `emitted ${result.emitted} of ${result.requested} test events in ${result.seconds} s (run ${result.runId}); ${result.stored} stored in the spool\n`,
        );
      }
    });

  const quarantine = agent.command('quarantine').description('List, restore or delete files the anti-malware module quarantined');
  quarantine
    .command('list')
    .description('List quarantined files (id, time, original path, size, detections)')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (own, cmd) => {
      const opts = withGlobals(own, cmd);
      const { result } = await asCli(() => quarantineOperation(opts.dataDir, 'quarantine-list', {}));
      if (opts.json) printJson(result);
      else process.stdout.write(`${formatQuarantine(result.entries as QuarantineRecord[])}\n`);
    });
  quarantine
    .command('restore')
    .description('Put a quarantined file back with its bytes, owner, mode and times')
    .argument('<id>', 'quarantine id (from `palisade agent quarantine list`)')
    .option('--to <path>', 'restore to this path instead of the original one')
    .option('--overwrite', 'replace a file that now exists at the destination', false)
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (id, own, cmd) => {
      const opts = withGlobals(own, cmd);
      const { via, result } = await asCli(() =>
        quarantineOperation(opts.dataDir, 'quarantine-restore', { id, overwrite: opts.overwrite, ...(opts.to ? { to: opts.to } : {}) }),
      );
      if (opts.json) printJson({ ...result, via });
      else {
        const r = result.restored as QuarantineRecord & { restoredTo: string };
        process.stdout.write(
          `restored ${r.id} to ${r.restoredTo} (${r.size} bytes, sha256 ${r.sha256})${via === 'vault' ? ' directly from the vault' : ''}\n`,
        );
      }
    });
  quarantine
    .command('delete')
    .description('Delete a quarantined file from the vault for good')
    .argument('<id>', 'quarantine id')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (id, own, cmd) => {
      const opts = withGlobals(own, cmd);
      const { via, result } = await asCli(() => quarantineOperation(opts.dataDir, 'quarantine-delete', { id }));
      if (opts.json) printJson({ ...result, via });
      else process.stdout.write(`deleted ${id} (${(result.deleted as QuarantineRecord).originalPath}) from the quarantine\n`);
    });

  agent
    .command('malware-scan')
    .description("Scan paths now with the running agent's anti-malware policy (its signatures, exclusions and action)")
    .argument('<path...>', 'absolute files or directories')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (paths, own, cmd) => {
      const opts = withGlobals(own, cmd);
      const report = await asCli(() =>
        requestModuleCommand(
          'anti-malware.scan',
          { paths: paths.map((p) => resolve(p)) },
          { dataDir: opts.dataDir, timeoutMs: 24 * 3600_000 },
        ),
      );
      if (opts.json) printJson(report);
      else {
        const infected = report.infected as { path: string; outcome: string; detections?: string[]; quarantineId?: string }[];
        for (const v of infected) {
          process.stdout.write(
            `${v.path}: ${(v.detections ?? []).join(', ')} FOUND (${v.outcome}${v.quarantineId ? ` ${v.quarantineId}` : ''})\n`,
          );
        }
        process.stdout.write(`${report.files} files, ${report.bytes} bytes, ${infected.length} infected in ${report.durationMs} ms\n`);
      }
      if ((report.infected as unknown[]).length > 0) process.exitCode = 1;
    });
}
