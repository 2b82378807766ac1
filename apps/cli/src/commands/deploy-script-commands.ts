import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { clientFrom, resolveConnection, withApi } from './api-connection.ts';
import { renderCloudInit } from './deploy-script-cloud-init.ts';
import { CliError, printJson } from './output.ts';

interface DeployScriptResult {
  platform: 'linux';
  script: string;
  token: { id: string; token: string; expiresAt: string; policyId: string | null; group: string | null; maxUses: number | null };
  managerUrl: string;
  bundle: { file: string; version: string; sha256: string; url: string };
}

/** `1h`, `30m`, `2d`, `90s` or plain seconds. */
export function parseTtl(value: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m)
    throw new CliError('CLI_BAD_ARGUMENT', `--token-ttl wants a duration like 1h, 30m, 2d or seconds, got ${JSON.stringify(value)}`, 2);
  const seconds = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as const)[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (seconds < 60) throw new CliError('CLI_BAD_ARGUMENT', '--token-ttl must be at least 60 seconds', 2);
  return seconds;
}

function parseTags(list: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError('CLI_BAD_ARGUMENT', `--tag wants key=value, got ${JSON.stringify(item)}`, 2);
    tags[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return tags;
}

/**
 * `palisade deploy-script`: asks the manager for a scoped activation token and the POSIX sh
 * script that installs and activates the agent with it (docs/deploy/deployment-script.md).
 * The CA the CLI trusts the manager with is pinned in the script, so hosts trust the same one.
 */
export function registerDeployScriptCommands(program: Command): void {
  program
    .command('deploy-script')
    .description('Generate a deployment script: download, verify, install and activate the agent on a host')
    .requiredOption('--platform <platform>', 'target platform (linux)')
    .option('--policy <name>', 'policy (name or id) the agents get')
    .option('--group <group>', 'group the agents join')
    .option('--token-ttl <duration>', 'lifetime of the activation token in the script (1h, 30m, 2d, seconds)', '1h')
    .option('--max-uses <n>', 'how many hosts may activate with the token (default: unlimited until it expires)')
    .option('--manager-url <url>', 'URL the hosts reach the manager at (default: --url)')
    .option('--bundle-url <url>', 'relay or mirror serving the agent bundle (the checksum stays the manager’s)')
    .option('--tag <key=value...>', 'host tag set at activation (repeatable)')
    .option('--cloud <provider>', 'report cloud metadata at activation (aws)')
    .option('--no-pin-ca', 'do not pin the manager CA in the script (hosts verify it with their trust store)')
    .option('--format <format>', 'sh (the script) or cloud-init (#cloud-config user data that runs it on first boot)', 'sh')
    .option('-o, --output <file>', 'write the script to this file (mode 0700) instead of stdout')
    .action(async (opts, cmd) => {
      const globals = cmd.optsWithGlobals() as { json?: boolean; url?: string; apiKey?: string; ca?: string };
      if (opts.platform !== 'linux') throw new CliError('CLI_BAD_ARGUMENT', `--platform ${opts.platform} is not supported (linux)`, 2);
      if (opts.cloud !== undefined && opts.cloud !== 'aws') throw new CliError('CLI_BAD_ARGUMENT', '--cloud supports aws only', 2);
      if (opts.format !== 'sh' && opts.format !== 'cloud-init') {
        throw new CliError('CLI_BAD_ARGUMENT', `--format ${opts.format} is not supported (sh, cloud-init)`, 2);
      }
      let maxUses: number | undefined;
      if (opts.maxUses !== undefined) {
        maxUses = Number(opts.maxUses);
        if (!Number.isInteger(maxUses) || maxUses < 1) throw new CliError('CLI_BAD_ARGUMENT', '--max-uses must be a positive integer', 2);
      }
      const connection = resolveConnection(globals);
      const client = clientFrom(cmd);
      const body = {
        platform: 'linux' as const,
        tokenTtlSeconds: parseTtl(opts.tokenTtl),
        managerUrl: opts.managerUrl ?? connection.url,
        ...(opts.policy ? { policy: opts.policy } : {}),
        ...(opts.group ? { group: opts.group } : {}),
        ...(maxUses ? { maxUses } : {}),
        ...(opts.bundleUrl ? { bundleUrl: opts.bundleUrl } : {}),
        ...(opts.tag?.length ? { tags: parseTags(opts.tag) } : {}),
        ...(opts.cloud ? { cloud: 'aws' as const } : {}),
        ...(opts.pinCa && connection.caPem ? { caPem: connection.caPem } : {}),
      };
      const res = await withApi(() => client.request<DeployScriptResult>('POST', '/api/v1/deploy-scripts', { body }));
      if (opts.format === 'cloud-init') {
        res.script = renderCloudInit(
          res.script,
          `Palisade agent ${res.bundle.version} from ${res.managerUrl}; activation token ${res.token.id} valid until ${res.token.expiresAt}`,
        );
      }
      if (opts.output) {
        const ours = /^(#!\/bin\/sh\n# Palisade agent deployment script|#cloud-config\n# Palisade agent )/;
        if (existsSync(opts.output) && !ours.test(readFileSync(opts.output, 'utf8'))) {
          throw new CliError('CLI_BAD_ARGUMENT', `${opts.output} exists and is not a deployment script; not overwriting it`, 2);
        }
        // it holds a live activation token
        writeFileSync(opts.output, res.script, { mode: 0o700 });
        chmodSync(opts.output, 0o700);
      }
      if (globals.json) printJson(opts.output ? { ...res, script: undefined, output: opts.output } : res);
      else if (opts.output) {
        process.stdout.write(
          `wrote ${opts.output}: installs ${res.bundle.file} and activates with ${res.managerUrl}; token ${res.token.id} expires ${res.token.expiresAt}\n`,
        );
      } else process.stdout.write(res.script);
    });
}
