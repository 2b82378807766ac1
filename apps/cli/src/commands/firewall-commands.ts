import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { type Diagnostic, formatDiagnostic } from '@palisade/diagnostics';
import {
  BLOCK_SETS,
  type CompiledRuleset,
  compileRuleset,
  type CompileOptions,
  loadPolicy,
  parseAddressRange,
  TABLE_NAME,
} from '@palisade/firewall';
import { CliError, printJson } from './output.ts';

function readPolicy(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError('FW_POLICY_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`);
  }
}

function compileOptions(manager: string | undefined): CompileOptions {
  if (!manager) return {};
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(manager);
  const addr = m ? parseAddressRange(m[1]!) : undefined;
  if (!m || !addr || typeof addr === 'string' || addr.start !== addr.end) {
    throw new CliError('FW_BAD_ADDRESS', `--manager must be ADDRESS:PORT, got "${manager}"`);
  }
  return { failsafe: { manager: { address: addr, port: Number(m[2]) } } };
}

/** Loads and compiles, printing diagnostics to stderr; throws when the policy is refused. */
function build(file: string, manager: string | undefined): { compiled: CompiledRuleset; diagnostics: Diagnostic[] } {
  const loaded = loadPolicy(readPolicy(file), file);
  const diagnostics = [...loaded.diagnostics];
  if (loaded.ok) {
    const c = compileRuleset(loaded.value, compileOptions(manager));
    diagnostics.push(...c.diagnostics.map((d) => ({ ...d, file: d.file ?? file })));
    if (c.ok) return { compiled: c.value, diagnostics };
  }
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  throw new CliError('FW_POLICY_INVALID', `${file}: policy refused (${diagnostics.filter((d) => d.severity === 'error').length} error(s))`);
}

function nft(args: string[], netns: string | undefined) {
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, 'nft', ...args]] : ['nft', args];
  return spawnSync(cmd, argv as string[], { encoding: 'utf8' });
}

function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new CliError('FW_BAD_DURATION', `--for must be a duration like 90, 10m, 1h or 1d, got "${text}"`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'];
}

export function registerFirewallCommands(program: Command): void {
  const fw = program.command('firewall').description('host firewall: compile policies to nftables, validate, block addresses');

  fw.command('compile')
    .description('print the nftables ruleset a policy compiles to (no root needed)')
    .argument('<policy>', 'policy YAML file')
    .option('--manager <addr:port>', 'manager address the failsafe keeps open')
    .option('--json', 'print {ruleset, ruleCount, sets, diagnostics} as JSON')
    .action((file, opts) => {
      const { compiled, diagnostics } = build(file, opts.manager);
      if (opts.json) {
        printJson({ ruleset: compiled.text, ruleCount: compiled.ruleCount, sets: compiled.sets, diagnostics });
        return;
      }
      for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      process.stdout.write(compiled.text);
    });

  fw.command('check')
    .description('validate a policy, and its ruleset with `nft -c` when nft can run here')
    .argument('<policy>', 'policy YAML file')
    .option('--manager <addr:port>', 'manager address the failsafe keeps open')
    .option('--netns <name>', 'run nft inside this network namespace')
    .option('--json', 'print the result as JSON')
    .action((file, opts) => {
      const { compiled, diagnostics } = build(file, opts.manager);
      for (const d of diagnostics) if (!opts.json) process.stderr.write(`${formatDiagnostic(d)}\n`);
      const dir = mkdtempSync(join(tmpdir(), 'palisade-fw-check-'));
      let nftResult: { checked: boolean; ok?: boolean; reason?: string; error?: string };
      try {
        const path = join(dir, 'ruleset.nft');
        writeFileSync(path, compiled.text);
        const r = nft(['-c', '-f', path], opts.netns);
        if (
          r.error ||
          r.status === 127 ||
          (r.status !== 0 && /not found|No such file or directory: nft|Operation not permitted/.test(r.stderr))
        ) {
          nftResult = { checked: false, reason: r.error ? 'nft is not installed' : r.stderr.trim() };
        } else nftResult = r.status === 0 ? { checked: true, ok: true } : { checked: true, ok: false, error: r.stderr.trim() };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      if (opts.json) printJson({ policy: file, ruleCount: compiled.ruleCount, diagnostics, nft: nftResult });
      else if (!nftResult.checked)
        process.stdout.write(`${file}: policy valid (${compiled.ruleCount} nft rules); nft check skipped: ${nftResult.reason}\n`);
      else if (nftResult.ok) process.stdout.write(`${file}: policy valid; nft accepts the ruleset (${compiled.ruleCount} rules)\n`);
      if (nftResult.checked && !nftResult.ok)
        throw new CliError('FW_NFT_REJECTED', `nft rejects the compiled ruleset:\n${nftResult.error}`);
    });

  fw.command('block')
    .description(
      'add an address or CIDR to the dynamic block list for a while: of this host, or of managed computers (--computers / --smart-folder)',
    )
    .argument('<address>', 'IPv4/IPv6 address or CIDR')
    .option('--for <duration>', 'how long: 90, 10m, 1h, 1d', '1h')
    .option('--netns <name>', 'run nft inside this network namespace (this host only)')
    .option('--computers <ids>', 'comma-separated computer ids: block there through the manager')
    .option('--smart-folder <id>', 'every computer of a smart folder: block there through the manager')
    .option('--reason <text>', 'recorded with the block event on each computer')
    .option('--wait <seconds>', 'how long to wait for the agents to answer', '30')
    .action(async (address, opts, cmd) => {
      const r = parseAddressRange(address);
      if (typeof r === 'string') throw new CliError('FW_BAD_ADDRESS', r);
      const seconds = parseDuration(opts.for);
      const json = Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
      if (opts.computers || opts.smartFolder) {
        const args = { address, seconds, ...(opts.reason ? { reason: opts.reason } : {}) };
        await remoteCommand(cmd, opts, 'firewall.block', args, json, (o) => `blocked ${address} for ${seconds}s on ${o}`);
        return;
      }
      const res = nft(['add', 'element', 'inet', TABLE_NAME, BLOCK_SETS[r.family], `{ ${address} timeout ${seconds}s }`], opts.netns);
      if (res.error || res.status !== 0) {
        throw new CliError('FW_BLOCK_FAILED', `${(res.stderr || String(res.error)).trim()} (is a Palisade ruleset applied on this host?)`);
      }
      if (json) printJson({ address, seconds, host: 'local' });
      else process.stdout.write(`blocked ${address} for ${seconds}s\n`);
    });

  fw.command('unblock')
    .description('remove an address or CIDR from the dynamic block list of managed computers')
    .argument('<address>', 'IPv4/IPv6 address or CIDR, exactly as it was blocked')
    .option('--computers <ids>', 'comma-separated computer ids')
    .option('--smart-folder <id>', 'every computer of a smart folder')
    .option('--wait <seconds>', 'how long to wait for the agents to answer', '30')
    .action(async (address, opts, cmd) => {
      const r = parseAddressRange(address);
      if (typeof r === 'string') throw new CliError('FW_BAD_ADDRESS', r);
      if (!opts.computers && !opts.smartFolder) throw new CliError('CLI_BAD_OPTION', 'give --computers or --smart-folder', 2);
      const json = Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
      await remoteCommand(cmd, opts, 'firewall.unblock', { address }, json, (o) => `unblocked ${address} on ${o}`);
    });
}

/** Sends a firewall command through the manager; fails (exit 1) when any computer did not apply it. */
async function remoteCommand(
  cmd: Command<any, any, any>,
  opts: { computers?: string; smartFolder?: string; wait: string },
  kind: string,
  args: Record<string, unknown>,
  json: boolean,
  describe: (computer: string) => string,
): Promise<void> {
  const { clientFrom, withApi } = await import('./api-connection.ts');
  const { sendAndWait, targetComputers } = await import('./remote-firewall-block.ts');
  const client = clientFrom(cmd);
  const waitSeconds = Number(opts.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new CliError('CLI_BAD_OPTION', '--wait must be a number of seconds', 2);
  const outcomes = await withApi(async () => sendAndWait(client, await targetComputers(client, opts), kind, args, waitSeconds * 1000));
  if (json) printJson({ kind, args, outcomes });
  else {
    for (const o of outcomes) {
      process.stdout.write(
        o.status === 'succeeded' ? `${describe(o.computerId)}\n` : `${o.computerId}: ${o.status}${o.error ? `: ${o.error}` : ''}\n`,
      );
    }
  }
  const failed = outcomes.filter((o) => o.status !== 'succeeded');
  if (failed.length > 0) throw new CliError('FW_REMOTE_FAILED', `${failed.length} of ${outcomes.length} computers did not apply ${kind}`);
}
