import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import type { NewPlaybook, PalisadeClient, Playbook, PlaybookAction } from '@palisade/api-client';
import { parse as parseYaml } from 'yaml';
import { clientFrom, withApi } from './api-connection.ts';
import { CliError, printJson } from './output.ts';
import { printTable } from './table-output.ts';

type Cmd = Command<any, any, any>;
const json = (cmd: Cmd) => Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
const collect = (v: string, prev: string[] = []) => [...prev, v];
const show = (cmd: Cmd, value: unknown, human: () => void) => (json(cmd) ? printJson(value) : human());

const ACTION_TYPES = ['aws-waf-block-ip', 'firewall-block-ip', 'aws-isolate-instance', 'webhook', 'run-scan'] as const;

export interface PlaybookFlags {
  file?: string;
  module?: string[];
  eventType?: string[];
  minSeverity?: string;
  ruleId?: string[];
  threshold?: string;
  window?: string;
  groupBy?: string;
  action?: string[];
  cloudAccount?: string;
  region?: string;
  scope?: string;
  ipSet?: string;
  ipv6IpSet?: string;
  duration?: string;
  targets?: string;
  isolationGroup?: string;
  noDetach?: boolean;
  noReattach?: boolean;
  restoreCapacityOnUndo?: boolean;
  snapshot?: boolean;
  webhookUrl?: string;
  webhookSecret?: string;
  scanPath?: string[];
  allow?: string[];
  maxRunsPerHour?: string;
  disabled?: boolean;
  description?: string;
}

const int = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError('CLI_BAD_OPTION', `${flag} must be a whole number (got ${JSON.stringify(v)})`, 2);
  return Number(v);
};

function targetsFrom(v: string | undefined): 'source' | { computerIds: string[] } | { smartFolderId: string } {
  if (!v || v === 'source') return 'source';
  if (v.startsWith('smart-folder:')) return { smartFolderId: v.slice('smart-folder:'.length) };
  if (v.startsWith('computers:')) return { computerIds: v.slice('computers:'.length).split(',').filter(Boolean) };
  throw new CliError('CLI_BAD_OPTION', '--targets must be source, computers:ID,ID… or smart-folder:ID', 2);
}

/**
 * A playbook from a file (JSON or YAML, the API's body) or from flags for the common one-trigger
 * cases. Webhook secrets may come from PALISADE_WEBHOOK_SECRET so they stay out of `ps`.
 */
export function playbookFromOptions(name: string | undefined, o: PlaybookFlags, env: NodeJS.ProcessEnv = process.env): NewPlaybook {
  if (o.file) {
    let doc: unknown;
    try {
      const text = readFileSync(o.file, 'utf8');
      doc = o.file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new CliError('CLI_FILE_NOT_READABLE', `cannot read the playbook ${o.file}: ${(err as Error).message}`, 2);
    }
    const pb = doc as NewPlaybook;
    return name ? { ...pb, name } : pb;
  }
  if (!name) throw new CliError('CLI_BAD_OPTION', 'a playbook needs a name (or --file)', 2);
  if (!o.action?.length) throw new CliError('CLI_BAD_OPTION', `--action is required (${ACTION_TYPES.join(', ')})`, 2);
  const duration = int(o.duration, '--duration');
  const actions: PlaybookAction[] = o.action.map((type): PlaybookAction => {
    switch (type) {
      case 'aws-waf-block-ip':
        if (!o.cloudAccount || !o.region || !o.ipSet)
          throw new CliError('CLI_BAD_OPTION', 'aws-waf-block-ip needs --cloud-account, --region and --ip-set', 2);
        return {
          type,
          cloudAccount: o.cloudAccount,
          region: o.region,
          scope: o.scope === 'CLOUDFRONT' ? 'CLOUDFRONT' : 'REGIONAL',
          ipSetName: o.ipSet,
          ...(o.ipv6IpSet ? { ipv6IpSetName: o.ipv6IpSet } : {}),
          ...(duration ? { durationSeconds: duration } : {}),
        };
      case 'firewall-block-ip':
        return { type, targets: targetsFrom(o.targets), durationSeconds: duration ?? 3600 };
      case 'aws-isolate-instance':
        return {
          type,
          ...(o.cloudAccount ? { cloudAccount: o.cloudAccount } : {}),
          ...(o.isolationGroup ? { isolationGroupName: o.isolationGroup } : {}),
          detachFromAutoScalingGroup: !o.noDetach,
          snapshot: Boolean(o.snapshot),
          // What undo does about the Auto Scaling group (docs/playbooks.md, "Undoing an isolation").
          ...({
            ...(o.noReattach ? { reattachOnUndo: false } : {}),
            ...(o.restoreCapacityOnUndo ? { restoreDesiredCapacityOnUndo: true } : {}),
          } as object),
        };
      case 'webhook': {
        if (!o.webhookUrl) throw new CliError('CLI_BAD_OPTION', 'webhook needs --webhook-url', 2);
        const secret = o.webhookSecret ?? env.PALISADE_WEBHOOK_SECRET;
        return { type, url: o.webhookUrl, ...(secret ? { secret } : {}) };
      }
      case 'run-scan':
        return { type, targets: targetsFrom(o.targets), ...(o.scanPath?.length ? { paths: o.scanPath } : {}) };
      default:
        throw new CliError('CLI_BAD_OPTION', `--action must be one of ${ACTION_TYPES.join(', ')} (got ${JSON.stringify(type)})`, 2);
    }
  });
  const groupBy = o.groupBy ?? (o.action.some((a) => a === 'aws-isolate-instance' || a === 'run-scan') ? 'computer' : 'attacker');
  if (groupBy !== 'attacker' && groupBy !== 'computer') throw new CliError('CLI_BAD_OPTION', '--group-by must be attacker or computer', 2);
  const threshold = int(o.threshold, '--threshold');
  const windowSeconds = int(o.window, '--window');
  const maxRunsPerHour = int(o.maxRunsPerHour, '--max-runs-per-hour');
  return {
    name,
    ...(o.description ? { description: o.description } : {}),
    ...(o.disabled ? { enabled: false } : {}),
    trigger: {
      filter: {
        ...(o.module?.length ? { modules: o.module } : {}),
        ...(o.eventType?.length ? { types: o.eventType } : {}),
        ...(o.minSeverity ? { minSeverity: o.minSeverity } : {}),
        ...(o.ruleId?.length ? { ruleIds: o.ruleId } : {}),
      },
      ...(threshold ? { threshold } : {}),
      ...(windowSeconds ? { windowSeconds } : {}),
      groupBy,
    },
    actions,
    ...(o.allow?.length || maxRunsPerHour
      ? { safeguards: { ...(o.allow?.length ? { allowList: o.allow } : {}), ...(maxRunsPerHour ? { maxRunsPerHour } : {}) } }
      : {}),
  };
}

async function resolvePlaybook(client: PalisadeClient, ref: string): Promise<Playbook> {
  return withApi(() => client.getPlaybook(ref));
}

const summary = (p: Playbook) => ({
  id: p.id,
  name: p.name,
  enabled: p.enabled,
  trigger: `${[...(p.trigger.filter.modules ?? []), ...(p.trigger.filter.types ?? [])].join(',') || 'any'} x${p.trigger.threshold}/${p.trigger.windowSeconds}s by ${p.trigger.groupBy}`,
  actions: p.actions.map((a) => a.type).join(','),
});

export function registerPlaybookCommands(program: Command): void {
  const pb = program
    .command('playbooks')
    .description('Response playbooks: when events match, block the attacker (AWS WAF, host firewalls), isolate the instance, notify, scan');
  const client = (cmd: Cmd) => clientFrom(cmd);

  pb.command('list')
    .option('--json', 'print JSON')
    .description('List playbooks')
    .action(async (_o, cmd) => {
      const res = await withApi(() => client(cmd).listPlaybooks());
      show(cmd, res, () => printTable(res.playbooks.map(summary), ['id', 'name', 'enabled', 'trigger', 'actions']));
    });

  pb.command('show <playbook>')
    .option('--json', 'print JSON')
    .description('Show a playbook (by id or name)')
    .action(async (ref, _o, cmd) => {
      const p = await resolvePlaybook(client(cmd), ref);
      show(cmd, p, () => process.stdout.write(`${JSON.stringify(p, null, 2)}\n`));
    });

  pb.command('create [name]')
    .option('--json', 'print JSON')
    .description('Create a playbook from --file (JSON/YAML, the API body) or from flags')
    .option('--file <file>', 'the playbook as JSON or YAML')
    .option('--description <text>', 'what it is for')
    .option('--module <module>', 'trigger: events of this module (repeatable)', collect)
    .option('--event-type <type>', 'trigger: events of this type; `ips.*` matches a prefix (repeatable)', collect)
    .option('--min-severity <severity>', 'trigger: at least this severe')
    .option('--rule-id <id>', 'trigger: events of this rule (repeatable)', collect)
    .option('--threshold <n>', 'trigger: this many matching events… (default 1)')
    .option('--window <seconds>', '…within this many seconds (default 60)')
    .option('--group-by <key>', 'count per attacker (address) or computer')
    .option('--action <type>', `action (repeatable): ${ACTION_TYPES.join(', ')}`, collect)
    .option('--cloud-account <ref>', 'AWS actions: the cloud account (id or name)')
    .option('--region <region>', 'aws-waf-block-ip: the IP set region')
    .option('--scope <scope>', 'aws-waf-block-ip: REGIONAL (default) or CLOUDFRONT')
    .option('--ip-set <name>', 'aws-waf-block-ip: the IPv4 IP set')
    .option('--ipv6-ip-set <name>', 'aws-waf-block-ip: the IPv6 IP set')
    .option('--duration <seconds>', 'block actions: unblock after this long')
    .option('--targets <targets>', 'firewall-block-ip, run-scan: source (default), computers:ID,ID or smart-folder:ID')
    .option('--isolation-group <name>', 'aws-isolate-instance: security group name (default palisade-isolation)')
    .option('--no-detach', 'aws-isolate-instance: leave the instance in its Auto Scaling group')
    .option('--snapshot', 'aws-isolate-instance: snapshot its EBS volumes first')
    .option('--no-reattach', 'aws-isolate-instance: undo leaves the instance out of its Auto Scaling group')
    .option(
      '--restore-capacity-on-undo',
      "aws-isolate-instance: after undo re-attaches the instance, set the group's desired capacity back (Auto Scaling then terminates one instance of its choosing)",
    )
    .option('--webhook-url <url>', 'webhook: where to POST')
    .option('--webhook-secret <secret>', 'webhook: HMAC key (or PALISADE_WEBHOOK_SECRET)')
    .option('--scan-path <path>', 'run-scan: path to scan (repeatable, default /)', collect)
    .option('--allow <cidr>', 'never block this address or network (repeatable): load balancers, admin networks', collect)
    .option('--max-runs-per-hour <n>', 'rate limit (default 20)')
    .option('--disabled', 'create it disabled')
    .action(async (name, o, cmd) => {
      // Commander turns --no-detach into detach=false.
      const flags = {
        ...(o as PlaybookFlags),
        noDetach: (o as { detach?: boolean }).detach === false,
        noReattach: (o as { reattach?: boolean }).reattach === false,
      };
      const body = playbookFromOptions(name, flags);
      const p = await withApi(() => client(cmd).createPlaybook(body));
      show(cmd, p, () => process.stdout.write(`created playbook ${p.id} ${p.name}\n`));
    });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    pb.command(`${verb} <playbook>`)
      .option('--json', 'print JSON')
      .description(`${verb === 'enable' ? 'Enable' : 'Disable'} a playbook`)
      .action(async (ref, _o, cmd) => {
        const c = client(cmd);
        const p = await resolvePlaybook(c, ref);
        const out = await withApi(() => c.updatePlaybook(p.id, { enabled }));
        show(cmd, out, () => process.stdout.write(`${out.name} ${enabled ? 'enabled' : 'disabled'}\n`));
      });
  }

  pb.command('delete <playbook>')
    .option('--json', 'print JSON')
    .description('Delete a playbook (what it did stays recorded)')
    .action(async (ref, _o, cmd) => {
      const c = client(cmd);
      const p = await resolvePlaybook(c, ref);
      await withApi(() => c.deletePlaybook(p.id));
      show(cmd, { deleted: p.id }, () => process.stdout.write(`deleted playbook ${p.name}\n`));
    });

  pb.command('actions')
    .option('--json', 'print JSON')
    .option('--playbook <playbook>', 'only this playbook (id or name)')
    .option('--status <status>', 'succeeded, failed, skipped, rate-limited, undone, expired, undo-failed')
    .option('--limit <n>', 'at most this many (default 200)')
    .description('What playbooks did: every action with its inputs, result and undo state')
    .action(async (o, cmd) => {
      const limit = int(o.limit, '--limit');
      const res = await withApi(() =>
        client(cmd).listPlaybookActions({
          ...(o.playbook ? { playbookId: o.playbook } : {}),
          ...(o.status ? { status: o.status } : {}),
          ...(limit ? { limit } : {}),
        }),
      );
      show(cmd, res, () =>
        printTable(
          res.actions.map((a) => ({
            id: a.id,
            time: a.createdAt,
            action: a.actionType,
            key: a.triggerKey,
            status: a.status,
            undoable: a.undoable,
            expires: a.expiresAt,
            detail: a.error ?? a.result.address ?? a.result.instanceId ?? '',
          })),
          ['id', 'time', 'action', 'key', 'status', 'undoable', 'expires', 'detail'],
        ),
      );
    });

  pb.command('undo <actionId>')
    .option('--json', 'print JSON')
    .description('Undo an action: take the address out of the IP set, unblock it on the hosts, restore the security groups')
    .action(async (id, _o, cmd) => {
      const out = await withApi(() => client(cmd).undoPlaybookAction(id));
      show(cmd, out, () =>
        process.stdout.write(`${out.actionType} ${out.id}: ${out.status}${out.undoResult ? ` ${JSON.stringify(out.undoResult)}` : ''}\n`),
      );
    });
}
