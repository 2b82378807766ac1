import type { Command } from '@commander-js/extra-typings';
import type { Event, PalisadeClient, Policy } from '@palisade/api-client';
import { clientFrom, withApi } from './api-connection.ts';
import { CliError, printJson } from './output.ts';
import { parseAssignment, setPath, unsetPath } from './setting-path.ts';
import { printTable } from './table-output.ts';

type Cmd = Command<any, any, any>;
const json = (cmd: Cmd) => Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);

/** Prints `value` as JSON with --json, otherwise as the given table or text. */
function show(cmd: Cmd, value: unknown, human: () => void): void {
  if (json(cmd)) printJson(value);
  else human();
}

/** Policies are named by id or by name on the command line. */
async function resolvePolicy(client: PalisadeClient, ref: string): Promise<Policy> {
  const { policies } = await client.listPolicies();
  const p = policies.find((x) => x.id === ref) ?? policies.find((x) => x.name === ref);
  if (!p) throw new CliError('CLI_POLICY_NOT_FOUND', `no policy with id or name ${JSON.stringify(ref)}`);
  return p;
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError('CLI_BAD_NUMBER', `${JSON.stringify(v)} is not a whole number`, 2);
  return n;
};

/** Parses durations like 30m, 1h, 7d (or plain seconds). */
export function parseDuration(v: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(v.trim());
  if (!m) throw new CliError('CLI_BAD_DURATION', `${JSON.stringify(v)} is not a duration (e.g. 90s, 30m, 1h, 7d)`, 2);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

export function registerPlatformCommands(program: Command): void {
  const tokens = program.command('tokens').description('Agent activation tokens');
  tokens
    .command('create')
    .description('Create an activation token (shown once)')
    .option('--policy <policy>', 'policy (id or name) the activated computers get')
    .option('--group <group>', 'computer group the activated computers join')
    .option('--ttl <duration>', 'validity, e.g. 1h, 7d', '24h')
    .option('--max-uses <n>', 'how many activations it allows')
    .option('--description <text>', 'what the token is for')
    .action(async (opts, cmd) => {
      const client = clientFrom(cmd);
      const res = await withApi(async () =>
        client.createToken({
          ttlSeconds: parseDuration(opts.ttl),
          ...(opts.policy ? { policyId: (await resolvePolicy(client, opts.policy)).id } : {}),
          ...(opts.group ? { group: opts.group } : {}),
          ...(opts.maxUses ? { maxUses: int(opts.maxUses) } : {}),
          ...(opts.description ? { description: opts.description } : {}),
        }),
      );
      show(cmd, res, () => process.stdout.write(`${res.token}\n(expires ${res.expiresAt}; shown only once)\n`));
    });
  tokens
    .command('list')
    .description('List activation tokens')
    .action(async (_o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).listTokens());
      show(cmd, res, () =>
        printTable(res.tokens as never, ['id', 'description', 'policyId', 'group', 'uses', 'maxUses', 'expiresAt', 'revokedAt']),
      );
    });
  tokens
    .command('revoke <id>')
    .description('Revoke an activation token')
    .action(async (id, _o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).revokeToken(id));
      show(cmd, res, () => process.stdout.write(`revoked ${res.id}\n`));
    });

  const computers = program.command('computers').description('Computers (activated agents)');
  computers
    .command('list')
    .description('List computers')
    .option('--status <status>', 'online | offline | warning | error')
    .option('--policy <policy>', 'policy id or name')
    .option('--hostname <text>', 'hostname contains')
    .option('--smart-folder <id>', 'only computers in this smart folder')
    .action(async (opts, cmd) => {
      const client = clientFrom(cmd);
      const res = await withApi(async () =>
        client.listComputers({
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.policy ? { policyId: (await resolvePolicy(client, opts.policy)).id } : {}),
          ...(opts.hostname ? { hostname: opts.hostname } : {}),
          ...(opts.smartFolder ? { smartFolderId: opts.smartFolder } : {}),
        }),
      );
      show(cmd, res, () => printTable(res.computers as never, ['id', 'hostname', 'platform', 'status', 'policyId', 'lastHeartbeat']));
    });
  computers
    .command('show <id>')
    .description('Show one computer with its module status and effective configuration hash')
    .action(async (id, _o, cmd) => {
      const client = clientFrom(cmd);
      const res = await withApi(async () => ({ ...(await client.getComputer(id)), effective: await client.effectiveConfig(id) }));
      show(cmd, res, () => printJson(res));
    });
  computers
    .command('command <id> <kind>')
    .description('Send a command to a computer (e.g. ping, update-config, scan-now)')
    .option('--args <json>', 'arguments as a JSON object', '{}')
    .action(async (id, kind, opts, cmd) => {
      let args: Record<string, unknown>;
      try {
        args = JSON.parse(opts.args);
      } catch {
        throw new CliError('CLI_BAD_JSON', '--args must be a JSON object', 2);
      }
      const res = await withApi(() => clientFrom(cmd).sendCommand(id, { kind, args }));
      show(cmd, res, () => process.stdout.write(`queued ${res.id}\n`));
    });
  computers
    .command('deactivate <id>')
    .description("Deactivate a computer: its agent's credentials stop working")
    .action(async (id, _o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).deactivateComputer(id));
      show(cmd, res, () => process.stdout.write(`deactivated ${res.id}\n`));
    });

  const policies = program.command('policies').description('Policies (a tree; children inherit and override)');
  policies
    .command('list')
    .description('List policies')
    .action(async (_o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).listPolicies());
      show(cmd, res, () => printTable(res.policies as never, ['id', 'name', 'parentId', 'description']));
    });
  policies
    .command('show <policy>')
    .description('Show a policy and the configuration it results in')
    .action(async (ref, _o, cmd) => {
      const client = clientFrom(cmd);
      const res = await withApi(async () => {
        const p = await resolvePolicy(client, ref);
        return { ...p, effective: await client.policyEffective(p.id) };
      });
      show(cmd, res, () => printJson(res));
    });
  policies
    .command('create <name>')
    .description('Create a policy')
    .option('--parent <policy>', 'parent policy (id or name)')
    .option('--description <text>', 'description')
    .option('--set <key=value...>', 'settings, e.g. --set modules.ips.mode=prevent heartbeatSeconds=30')
    .action(async (name, opts, cmd) => {
      const client = clientFrom(cmd);
      const settings: Record<string, unknown> = {};
      for (const a of opts.set ?? []) {
        const { path, value } = parseAssignment(a);
        setPath(settings, path, value);
      }
      const res = await withApi(async () =>
        client.createPolicy({
          name,
          settings,
          ...(opts.parent ? { parentId: (await resolvePolicy(client, opts.parent)).id } : {}),
          ...(opts.description ? { description: opts.description } : {}),
        }),
      );
      show(cmd, res, () => process.stdout.write(`created ${res.id} ${res.name}\n`));
    });
  policies
    .command('set <policy> [assignments...]')
    .description('Change settings of a policy: key=value to override, --unset key to inherit again')
    .option('--unset <key...>', 'settings to inherit from the parent again')
    .option('--parent <policy>', 'move under another policy ("none" for the root)')
    .action(async (ref, assignments, opts, cmd) => {
      const client = clientFrom(cmd);
      const res = await withApi(async () => {
        const p = await resolvePolicy(client, ref);
        const settings = structuredClone(p.settings);
        for (const a of assignments) {
          let parsed: ReturnType<typeof parseAssignment>;
          try {
            parsed = parseAssignment(a);
          } catch (e) {
            throw new CliError('CLI_BAD_ASSIGNMENT', (e as Error).message, 2);
          }
          setPath(settings, parsed.path, parsed.value);
        }
        for (const u of opts.unset ?? []) unsetPath(settings, u.split('.'));
        const parentId =
          opts.parent === undefined ? undefined : opts.parent === 'none' ? null : (await resolvePolicy(client, opts.parent)).id;
        return client.updatePolicy(p.id, { settings, ...(parentId !== undefined ? { parentId } : {}) });
      });
      show(cmd, res, () => process.stdout.write(`updated ${res.name}: ${JSON.stringify(res.settings)}\n`));
    });
  policies
    .command('delete <policy>')
    .description('Delete a policy that no computer, token or child policy uses')
    .action(async (ref, _o, cmd) => {
      const client = clientFrom(cmd);
      await withApi(async () => client.deletePolicy((await resolvePolicy(client, ref)).id));
      show(cmd, { deleted: ref }, () => process.stdout.write(`deleted ${ref}\n`));
    });

  program
    .command('events')
    .description('Events')
    .command('list')
    .description('List events, newest first')
    .option('--computer <id>', 'only this computer')
    .option('--module <module>', 'system, ips, firewall, …')
    .option('--type <type>', 'event type')
    .option('--severity <levels...>', 'info low medium high critical')
    .option('--since <time>', 'ISO time or a duration ago (e.g. 1h)')
    .option('--limit <n>', 'page size', '50')
    .option('--all', 'follow the cursor through every page')
    .action(async (opts, cmd) => {
      const client = clientFrom(cmd);
      const since =
        opts.since && /^\d+[smhd]?$/.test(opts.since) ? new Date(Date.now() - parseDuration(opts.since) * 1000).toISOString() : opts.since;
      const query = {
        ...(opts.computer ? { computerId: opts.computer } : {}),
        ...(opts.module ? { module: opts.module } : {}),
        ...(opts.type ? { type: opts.type } : {}),
        ...(opts.severity ? { severity: opts.severity } : {}),
        ...(since ? { since } : {}),
        limit: int(opts.limit),
      };
      const events: Event[] = [];
      let cursor: string | undefined;
      do {
        const page = await withApi(() => client.listEvents({ ...query, ...(cursor ? { cursor } : {}) }));
        events.push(...page.events);
        cursor = opts.all ? (page.nextCursor ?? undefined) : undefined;
      } while (cursor);
      show(cmd, { events }, () => printTable(events as never, ['time', 'computerId', 'module', 'type', 'severity', 'ruleId', 'message']));
    });

  const folders = program.command('smart-folders').description('Smart folders: saved queries over computers');
  folders
    .command('list')
    .description('List smart folders')
    .action(async (_o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).listSmartFolders());
      show(cmd, res, () => printTable(res.smartFolders as never, ['id', 'name', 'query']));
    });
  folders
    .command('create <name> <query-json>')
    .description('Create a smart folder, e.g. \'{"all":[{"field":"tag:env","op":"equals","value":"prod"}]}\'')
    .action(async (name, queryJson, _o, cmd) => {
      let query: unknown;
      try {
        query = JSON.parse(queryJson);
      } catch {
        throw new CliError('CLI_BAD_JSON', 'the query must be JSON', 2);
      }
      const res = await withApi(() => clientFrom(cmd).createSmartFolder({ name, query }));
      show(cmd, res, () => process.stdout.write(`created ${res.id} ${res.name}\n`));
    });
  folders
    .command('computers <id>')
    .description('The computers that match a smart folder now')
    .action(async (id, _o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).smartFolderComputers(id));
      show(cmd, res, () => printTable(res.computers as never, ['id', 'hostname', 'platform', 'status', 'policyId']));
    });
  folders
    .command('delete <id>')
    .description('Delete a smart folder')
    .action(async (id, _o, cmd) => {
      await withApi(() => clientFrom(cmd).deleteSmartFolder(id));
      show(cmd, { deleted: id }, () => process.stdout.write(`deleted ${id}\n`));
    });

  const tenants = program.command('tenants').description('Tenants (primary tenant admins only)');
  tenants
    .command('create <id> <name>')
    .description('Create a tenant with its own database, and its first admin API key')
    .action(async (id, name, _o, cmd) => {
      const client = clientFrom(cmd);
      const res = await withApi(async () => ({
        tenant: await client.createTenant({ id, name }),
        adminKey: await client.createTenantApiKey(id, { name: 'tenant admin', role: 'admin' }),
      }));
      show(cmd, res, () => process.stdout.write(`created tenant ${id}\nadmin API key (shown once): ${res.adminKey.secret}\n`));
    });
  tenants
    .command('list')
    .description('List tenants')
    .action(async (_o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).listTenants());
      show(cmd, res, () => printTable(res.tenants as never, ['id', 'name', 'status', 'createdAt']));
    });

  const keys = program.command('api-keys').description('API keys of your tenant (admins)');
  keys
    .command('create <name>')
    .description('Create an API key (shown once)')
    .option('--role <role>', 'admin | operator | auditor', 'operator')
    .action(async (name, opts, cmd) => {
      const res = await withApi(() => clientFrom(cmd).createApiKey({ name, role: opts.role as 'admin' }));
      show(cmd, res, () => process.stdout.write(`${res.secret}\n(${res.role}; shown only once)\n`));
    });
  keys
    .command('list')
    .description('List API keys (never their values)')
    .action(async (_o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).listApiKeys());
      show(cmd, res, () => printTable(res.apiKeys as never, ['id', 'name', 'role', 'createdAt', 'lastUsedAt', 'revokedAt']));
    });
  keys
    .command('revoke <id>')
    .description('Revoke an API key')
    .action(async (id, _o, cmd) => {
      const res = await withApi(() => clientFrom(cmd).revokeApiKey(id));
      show(cmd, res, () => process.stdout.write(`revoked ${res.id}\n`));
    });
}
