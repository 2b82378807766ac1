import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import type {
  Forwarder,
  ForwarderDeadLetterPage,
  ForwarderDeadLetterPolicy,
  ForwarderFilter,
  NewForwarder,
  PalisadeClient,
} from '@palisade/api-client';
import { clientFrom, withApi } from './api-connection.ts';
import { CliError, printJson } from './output.ts';
import { printTable } from './table-output.ts';

type Cmd = Command<any, any, any>;
const json = (cmd: Cmd) => Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
const collect = (v: string, prev: string[] = []) => [...prev, v];

function show(cmd: Cmd, value: unknown, human: () => void): void {
  if (json(cmd)) printJson(value);
  else human();
}

function readPem(file: string | undefined, what: string): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError('CLI_FILE_NOT_READABLE', `cannot read the ${what} ${file}: ${(err as Error).message}`, 2);
  }
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T {
  if (value === undefined || !allowed.includes(value as T))
    throw new CliError(
      'CLI_BAD_OPTION',
      `${flag} must be one of ${allowed.join(', ')}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`,
      2,
    );
  return value as T;
}

/** Forwarders are named by id or by name on the command line. */
async function resolveForwarder(client: PalisadeClient, ref: string): Promise<Forwarder> {
  const { forwarders } = await client.listForwarders();
  const f = forwarders.find((x) => x.id === ref) ?? forwarders.find((x) => x.name === ref);
  if (!f) throw new CliError('CLI_FORWARDER_NOT_FOUND', `no forwarder with id or name ${JSON.stringify(ref)}`);
  return f;
}

interface CreateOptions {
  type?: string;
  protocol?: string;
  address?: string;
  format?: string;
  rfc?: string;
  facility?: string;
  tlsCa?: string;
  serverName?: string;
  clientCert?: string;
  clientKey?: string;
  url?: string;
  secret?: string;
  webhookCa?: string;
  topicArn?: string;
  region?: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  module?: string[];
  minSeverity?: string;
  eventType?: string[];
  group?: string[];
  disabled?: boolean;
}

/** Builds the API body from flags; secrets may also come from the environment so they stay out of `ps`. */
export function forwarderFromOptions(name: string | undefined, o: CreateOptions, env: NodeJS.ProcessEnv = process.env): NewForwarder {
  const type = oneOf(o.type, ['syslog', 'webhook', 'sns'] as const, '--type');
  const filter: ForwarderFilter = {
    ...(o.module?.length ? { modules: o.module } : {}),
    ...(o.minSeverity ? { minSeverity: o.minSeverity } : {}),
    ...(o.eventType?.length ? { types: o.eventType } : {}),
    ...(o.group?.length ? { groups: o.group } : {}),
  };
  const base = { filter, ...(o.disabled ? { enabled: false } : {}) };
  if (type === 'syslog') {
    const protocol = oneOf(o.protocol, ['udp', 'tcp', 'tls'] as const, '--protocol');
    if (!o.address) throw new CliError('CLI_BAD_OPTION', '--address HOST:PORT is required for syslog', 2);
    const clientKey = readPem(o.clientKey, 'client key');
    return {
      ...base,
      name: name ?? `syslog-${protocol}-${o.address}`,
      type,
      settings: {
        protocol,
        address: o.address,
        format: oneOf(o.format ?? 'cef', ['cef', 'leef', 'json'] as const, '--format'),
        ...(o.rfc ? { rfc: oneOf(o.rfc, ['5424', '3164'] as const, '--rfc') } : {}),
        ...(o.facility !== undefined ? { facility: Number(o.facility) } : {}),
        ...(o.tlsCa ? { caPem: readPem(o.tlsCa, 'CA file') } : {}),
        ...(o.serverName ? { serverName: o.serverName } : {}),
        ...(o.clientCert ? { clientCertPem: readPem(o.clientCert, 'client certificate') } : {}),
      },
      ...(clientKey ? { secrets: { clientKeyPem: clientKey } } : {}),
    };
  }
  if (type === 'webhook') {
    if (!o.url) throw new CliError('CLI_BAD_OPTION', '--url is required for a webhook', 2);
    const secret = o.secret ?? env.PALISADE_FORWARDER_SECRET;
    if (!secret) throw new CliError('CLI_BAD_OPTION', '--secret (or PALISADE_FORWARDER_SECRET) is required for a webhook', 2);
    return {
      ...base,
      name: name ?? `webhook-${new URL(o.url).host}`,
      type,
      settings: { url: o.url, ...(o.webhookCa ? { caPem: readPem(o.webhookCa, 'CA file') } : {}) },
      secrets: { secret },
    };
  }
  if (!o.topicArn) throw new CliError('CLI_BAD_OPTION', '--topic-arn is required for sns', 2);
  const secretAccessKey = o.secretAccessKey ?? (o.accessKeyId ? env.PALISADE_AWS_SECRET_ACCESS_KEY : undefined);
  return {
    ...base,
    name: name ?? `sns-${o.topicArn.split(':').pop()}`,
    type,
    settings: {
      topicArn: o.topicArn,
      ...(o.region ? { region: o.region } : {}),
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}),
    },
    ...(secretAccessKey ? { secrets: { secretAccessKey } } : {}),
  };
}

const target = (f: Forwarder) => {
  const s = f.settings as Record<string, string>;
  return f.type === 'syslog' ? `${s.protocol}://${s.address} ${s.format}` : f.type === 'webhook' ? s.url : s.topicArn;
};

export function registerForwarderCommands(program: Command): void {
  // `forwarders create --type webhook --url U` (the issue's syntax) needs `--url` for the
  // webhook, but `--url` is also the global manager URL, and Commander lets the program take
  // its options anywhere. With positional options the program only reads its options before
  // the subcommand, so the manager URL goes first: `palisade --url M forwarders create --url U`.
  // main.ts loads this module only for `forwarders` (or for help), so other commands keep the
  // usual parsing.
  program.enablePositionalOptions();
  const fw = program
    .command('forwarders')
    .description(
      'Event forwarders: syslog (CEF, LEEF, JSON over UDP/TCP/TLS), signed webhooks, AWS SNS. Connection options (--url, --api-key, --ca) go before `forwarders`',
    );
  // The client is built from the program's options only: `create --url` is the webhook's URL.
  const client = () => clientFrom(program as unknown as Cmd);

  fw.command('list')
    .option('--json', 'print JSON')
    .description('List forwarders with their delivery state (secrets are never shown)')
    .action(async (_o, cmd) => {
      const res = await withApi(() => client().listForwarders());
      show(cmd, res, () =>
        printTable(
          res.forwarders.map((f) => ({
            id: f.id,
            name: f.name,
            type: f.type,
            target: target(f),
            enabled: f.enabled,
            pending: f.delivery.pending,
            deadLetters: (f.delivery as { deadLetters?: number }).deadLetters ?? 0,
            lastError: f.delivery.lastError,
          })),
          ['id', 'name', 'type', 'target', 'enabled', 'pending', 'deadLetters', 'lastError'],
        ),
      );
    });

  fw.command('create [name]')
    .option('--json', 'print JSON')
    .description('Create a forwarder (admin). Secrets may come from PALISADE_FORWARDER_SECRET / PALISADE_AWS_SECRET_ACCESS_KEY')
    .requiredOption('--type <type>', 'syslog | webhook | sns')
    .option('--protocol <protocol>', 'syslog: udp | tcp | tls')
    .option('--address <host:port>', 'syslog: receiver address')
    .option('--format <format>', 'syslog: cef | leef | json', 'cef')
    .option('--rfc <rfc>', 'syslog: 5424 (default) | 3164')
    .option('--facility <n>', 'syslog: facility 0-23 (default 16, local0)')
    .option('--tls-ca <file>', "syslog tls: CA that signs the receiver's certificate (default: system roots)")
    .option('--server-name <name>', "syslog tls: name to verify in the receiver's certificate")
    .option('--client-cert <file>', 'syslog tls: client certificate for mutual TLS')
    .option('--client-key <file>', 'syslog tls: key of the client certificate')
    .option('--url <url>', 'webhook: receiver URL')
    .option('--secret <secret>', 'webhook: HMAC-SHA256 signing secret (16+ characters)')
    .option('--webhook-ca <file>', 'webhook: CA of an https receiver with a private certificate')
    .option('--topic-arn <arn>', 'sns: topic ARN')
    .option('--region <region>', 'sns: region (default: from the ARN)')
    .option('--endpoint <url>', 'sns: another endpoint (VPC endpoint, test server)')
    .option('--access-key-id <id>', 'sns: access key id (default: the AWS default chain, e.g. the instance role)')
    .option('--secret-access-key <key>', 'sns: secret access key')
    .option('--module <module>', 'only events of this module (repeatable)', collect)
    .option('--min-severity <severity>', 'only events at least this severe (info, low, medium, high, critical)')
    .option('--event-type <type>', 'only events of this type (repeatable)', collect)
    .option('--group <group>', 'only events of computers in this group (repeatable)', collect)
    .option('--disabled', 'create paused (events are not queued until it is enabled)')
    .action(async (name, o, cmd) => {
      const body = forwarderFromOptions(name, o as CreateOptions);
      const f = await withApi(() => client().createForwarder(body));
      show(cmd, f, () => process.stdout.write(`created forwarder ${f.id} ${f.name} (${target(f)})\n`));
    });

  fw.command('test <forwarder>')
    .option('--json', 'print JSON')
    .description('Send one test event now and report whether the receiver took it')
    .action(async (ref, _o, cmd) => {
      const c = client();
      const res = await withApi(async () => c.testForwarder((await resolveForwarder(c, ref)).id));
      show(cmd, res, () =>
        process.stdout.write(res.delivered ? `delivered test event ${res.eventId}\n` : `NOT delivered: ${res.error ?? 'unknown error'}\n`),
      );
      if (!res.delivered) process.exitCode = 1;
    });

  fw.command('delete <forwarder>')
    .option('--json', 'print JSON')
    .description('Delete a forwarder and the events it has not delivered yet')
    .action(async (ref, _o, cmd) => {
      const c = client();
      const f = await withApi(() => resolveForwarder(c, ref));
      await withApi(() => c.deleteForwarder(f.id));
      show(cmd, { deleted: f.id }, () => process.stdout.write(`deleted ${f.id} ${f.name}\n`));
    });

  registerDeadLetterCommands(fw, client);
}

/** `7d`, `12h`, `30m`, `90s`, plain seconds, or `none`. */
export function parseLimit(value: string, flag: string, kind: 'count' | 'duration'): number | null {
  if (value === 'none') return null;
  const m = kind === 'count' ? /^(\d+)$/.exec(value.trim()) : /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) {
    throw new CliError(
      'CLI_BAD_OPTION',
      `${flag} wants ${kind === 'count' ? 'a number' : 'a duration like 7d, 12h, 30m or seconds'} or none, got ${JSON.stringify(value)}`,
      2,
    );
  }
  const unit = ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as const)[(m[2] ?? '') as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function registerDeadLetterCommands(fw: Cmd, client: () => PalisadeClient): void {
  const dl = fw
    .command('dead-letters')
    .description(
      'Events a forwarder gave up on: refused by the receiver (e.g. webhook 400, SNS InvalidParameter) or past its attempts/age limit',
    );
  const base = (id: string) => `/api/v1/forwarders/${encodeURIComponent(id)}`;

  dl.command('list <forwarder>')
    .option('--json', 'print JSON')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--after <id>', 'the page after this dead letter id')
    .description('List dead letters, oldest first, with the reason and the last error')
    .action(async (ref: string, o: { limit?: string; after?: string }, cmd: Cmd) => {
      const c = client();
      const page = await withApi(async () => {
        const f = await resolveForwarder(c, ref);
        const query: Record<string, string> = {};
        if (o.limit) query.limit = String(parseLimit(o.limit, '--limit', 'count'));
        if (o.after) query.after = o.after;
        return c.request<ForwarderDeadLetterPage>('GET', `${base(f.id)}/dead-letters`, { query });
      });
      show(cmd, page, () => {
        printTable(
          page.deadLetters.map((d) => ({
            id: d.id,
            eventId: d.eventId,
            event: `${d.event.type} ${d.event.hostname}`,
            deadAt: d.deadAt,
            reason: d.reason,
            attempts: d.attempts,
            lastError: d.lastError,
          })),
          ['id', 'eventId', 'event', 'deadAt', 'reason', 'attempts', 'lastError'],
        );
        process.stdout.write(`${page.total} dead letter(s)${page.next ? `; next page: --after ${page.next}` : ''}\n`);
      });
    });

  const selection = (ids: string[] | undefined, all: boolean | undefined, verb: string) => {
    if (!ids?.length && !all) throw new CliError('CLI_BAD_OPTION', `say which dead letters to ${verb}: --id ID (repeatable) or --all`, 2);
    if (ids?.length && all) throw new CliError('CLI_BAD_OPTION', '--id and --all exclude each other', 2);
    return ids?.length ? { ids } : {};
  };

  dl.command('retry <forwarder>')
    .option('--json', 'print JSON')
    .option('--id <id>', 'dead letter id (repeatable)', collect)
    .option('--all', 'every dead letter of the forwarder')
    .description('Put dead letters back at the head of the outbox: they are sent next, in their old order (operator)')
    .action(async (ref: string, o: { id?: string[]; all?: boolean }, cmd: Cmd) => {
      const body = selection(o.id, o.all, 'retry');
      const c = client();
      const res = await withApi(async () => {
        const f = await resolveForwarder(c, ref);
        return c.request<{ forwarderId: string; retried: number }>('POST', `${base(f.id)}/dead-letters/retry`, { body });
      });
      show(cmd, res, () => process.stdout.write(`queued ${res.retried} dead letter(s) again\n`));
    });

  dl.command('discard <forwarder>')
    .option('--json', 'print JSON')
    .option('--id <id>', 'dead letter id (repeatable)', collect)
    .option('--all', 'every dead letter of the forwarder')
    .description('Drop dead letters for good (admin)')
    .action(async (ref: string, o: { id?: string[]; all?: boolean }, cmd: Cmd) => {
      const body = selection(o.id, o.all, 'discard');
      const c = client();
      const res = await withApi(async () => {
        const f = await resolveForwarder(c, ref);
        return c.request<{ forwarderId: string; discarded: number }>('POST', `${base(f.id)}/dead-letters/discard`, { body });
      });
      show(cmd, res, () => process.stdout.write(`discarded ${res.discarded} dead letter(s)\n`));
    });

  dl.command('policy <forwarder>')
    .option('--json', 'print JSON')
    .requiredOption('--max-attempts <n>', 'failed attempts after which an event is dead-lettered, or none')
    .requiredOption(
      '--max-age <duration>',
      'time in the queue after which an undelivered event is dead-lettered (7d, 12h, seconds), or none',
    )
    .description('Set when undelivered events go to the dead letters besides a refusal (admin)')
    .action(async (ref: string, o: { maxAttempts: string; maxAge: string }, cmd: Cmd) => {
      const body: ForwarderDeadLetterPolicy = {
        maxAttempts: parseLimit(o.maxAttempts, '--max-attempts', 'count'),
        maxAgeSeconds: parseLimit(o.maxAge, '--max-age', 'duration'),
      };
      const c = client();
      const f = await withApi(async () =>
        c.request<Forwarder>('PUT', `${base((await resolveForwarder(c, ref)).id)}/dead-letter-policy`, { body }),
      );
      show(cmd, f, () =>
        process.stdout.write(
          `${f.name}: dead-letter after ${body.maxAttempts ?? 'unlimited'} attempts, ${body.maxAgeSeconds === null ? 'no age limit' : `${body.maxAgeSeconds} s in the queue`}\n`,
        ),
      );
    });
}
