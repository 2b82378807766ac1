import type { Command } from '@commander-js/extra-typings';
import type { CloudAccount, NewCloudAccount, PalisadeClient } from '@palisade/api-client';
import { clientFrom, withApi } from './api-connection.ts';
import { CliError, printJson } from './output.ts';
import { printTable } from './table-output.ts';

type Cmd = Command<any, any, any>;
const json = (cmd: Cmd) => Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
const collect = (v: string, prev: string[] = []) => [...prev, v];
const show = (cmd: Cmd, value: unknown, human: () => void) => (json(cmd) ? printJson(value) : human());

export interface CloudAccountFlags {
  auth?: string;
  region?: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
  roleArn?: string;
  externalId?: string;
  awsAccountId?: string;
  interval?: string;
  disabled?: boolean;
}

/** The secret access key may come from PALISADE_AWS_SECRET_ACCESS_KEY, so it stays out of `ps` and shell history. */
export function cloudAccountFromOptions(name: string, o: CloudAccountFlags, env: NodeJS.ProcessEnv = process.env): NewCloudAccount {
  const auth = o.auth ?? (o.roleArn ? 'assume-role' : o.accessKeyId ? 'access-keys' : 'instance-role');
  if (auth !== 'access-keys' && auth !== 'assume-role' && auth !== 'instance-role')
    throw new CliError('CLI_BAD_OPTION', '--auth must be access-keys, assume-role or instance-role', 2);
  if (!o.region?.length) throw new CliError('CLI_BAD_OPTION', '--region is required (repeatable)', 2);
  const secretAccessKey = o.secretAccessKey ?? (o.accessKeyId ? env.PALISADE_AWS_SECRET_ACCESS_KEY : undefined);
  if (o.interval !== undefined && !/^\d+$/.test(o.interval)) throw new CliError('CLI_BAD_OPTION', '--interval must be seconds', 2);
  return {
    name,
    authType: auth,
    regions: o.region,
    ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}),
    ...(secretAccessKey ? { secretAccessKey } : {}),
    ...(o.roleArn ? { roleArn: o.roleArn } : {}),
    ...(o.externalId ? { externalId: o.externalId } : {}),
    ...(o.awsAccountId ? { awsAccountId: o.awsAccountId } : {}),
    ...(o.interval ? { syncIntervalSeconds: Number(o.interval) } : {}),
    ...(o.disabled ? { enabled: false } : {}),
  };
}

const row = (a: CloudAccount) => ({
  id: a.id,
  name: a.name,
  auth: a.authType,
  account: a.awsAccountId,
  regions: a.regions.join(','),
  enabled: a.enabled,
  lastSync: a.lastSyncAt,
  status: a.lastSyncStatus,
  error: a.lastSyncError,
});

const resolve = (c: PalisadeClient, ref: string) => withApi(() => c.getCloudAccount(ref));

export function registerCloudAccountCommands(program: Command): void {
  const ca = program
    .command('cloud-accounts')
    .description('AWS accounts: EC2 instances and Auto Scaling groups become computers before their agents start');
  const client = (cmd: Cmd) => clientFrom(cmd);

  ca.command('list')
    .option('--json', 'print JSON')
    .description('List cloud accounts (secrets are never shown)')
    .action(async (_o, cmd) => {
      const res = await withApi(() => client(cmd).listCloudAccounts());
      show(cmd, res, () =>
        printTable(res.cloudAccounts.map(row), ['id', 'name', 'auth', 'account', 'regions', 'enabled', 'lastSync', 'status', 'error']),
      );
    });

  ca.command('add <name>')
    .option('--json', 'print JSON')
    .description('Add an AWS account (admin)')
    .option('--auth <type>', 'access-keys | assume-role | instance-role (default: from the other flags)')
    .option('--region <region>', 'region to sync (repeatable)', collect)
    .option('--access-key-id <id>', 'access keys (or the base credentials of assume-role)')
    .option('--secret-access-key <key>', 'secret access key (or PALISADE_AWS_SECRET_ACCESS_KEY)')
    .option('--role-arn <arn>', 'assume-role: the role to assume')
    .option('--external-id <id>', 'assume-role: the external id the role demands')
    .option('--aws-account-id <id>', 'the 12-digit account (learnt at the first sync otherwise)')
    .option('--interval <seconds>', 'periodic sync interval (default 300)')
    .option('--disabled', 'add it without periodic sync')
    .action(async (name, o, cmd) => {
      const a = await withApi(() => client(cmd).createCloudAccount(cloudAccountFromOptions(name, o as CloudAccountFlags)));
      show(cmd, a, () => process.stdout.write(`added cloud account ${a.id} ${a.name} (${a.authType}, ${a.regions.join(', ')})\n`));
    });

  ca.command('show <account>')
    .option('--json', 'print JSON')
    .description('Show a cloud account and its last sync')
    .action(async (ref, _o, cmd) => {
      const a = await resolve(client(cmd), ref);
      show(cmd, a, () => process.stdout.write(`${JSON.stringify(a, null, 2)}\n`));
    });

  ca.command('sync <account>')
    .option('--json', 'print JSON')
    .description('Sync now: discover instances and Auto Scaling groups, retire terminated instances')
    .action(async (ref, _o, cmd) => {
      const c = client(cmd);
      const a = await resolve(c, ref);
      const s = await withApi(() => c.syncCloudAccount(a.id));
      show(cmd, s, () =>
        printTable(
          Object.entries(s.regions).map(([region, r]) => ({
            region,
            instances: r.instances,
            discovered: r.discovered.length,
            updated: r.updated,
            retired: r.retired.length,
            autoScalingGroups: r.autoScalingGroups,
          })),
          ['region', 'instances', 'discovered', 'updated', 'retired', 'autoScalingGroups'],
        ),
      );
    });

  ca.command('instances <account>')
    .option('--json', 'print JSON')
    .description('Instances the syncs found, with their computer')
    .action(async (ref, _o, cmd) => {
      const c = client(cmd);
      const a = await resolve(c, ref);
      const res = await withApi(() => c.cloudInstances(a.id));
      show(cmd, res, () =>
        printTable(
          res.instances.map((i) => ({
            instance: i.instanceId,
            region: i.region,
            state: i.state,
            asg: i.asgName,
            computer: i.computerId,
            lastSeen: i.lastSeenAt,
          })),
          ['instance', 'region', 'state', 'asg', 'computer', 'lastSeen'],
        ),
      );
    });

  ca.command('delete <account>')
    .option('--json', 'print JSON')
    .description('Remove a cloud account (its computers stay)')
    .action(async (ref, _o, cmd) => {
      const c = client(cmd);
      const a = await resolve(c, ref);
      await withApi(() => c.deleteCloudAccount(a.id));
      show(cmd, { deleted: a.id }, () => process.stdout.write(`deleted cloud account ${a.name}\n`));
    });
}
