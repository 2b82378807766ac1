import { randomBytes } from 'node:crypto';
import type { Command } from '@commander-js/extra-typings';
import { ConsoleClient, type ConsoleUser, type Role } from '@palisade/api-client';
import { nodeTransport, resolveConnection, withApi, type ConnectionOptions } from './api-connection.ts';
import { CliError, printJson } from './output.ts';
import { printTable } from './table-output.ts';

type Cmd = Command<any, any, any>;
const json = (cmd: Cmd) => Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
const show = (cmd: Cmd, value: unknown, human: () => void) => (json(cmd) ? printJson(value) : human());
const ROLES: Role[] = ['admin', 'operator', 'auditor'];

function client(cmd: Cmd): ConsoleClient {
  const { url, apiKey, caPem } = resolveConnection(cmd.optsWithGlobals() as ConnectionOptions);
  return new ConsoleClient({ url, apiKey, transport: nodeTransport(caPem) });
}

interface PasswordFlags {
  passwordStdin?: boolean;
  generatePassword?: boolean;
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/**
 * A password never comes from a flag (it would show in `ps` and the shell history): from stdin,
 * from PALISADE_PASSWORD, or generated and printed once.
 */
export async function passwordFrom(
  o: PasswordFlags,
  env: NodeJS.ProcessEnv = process.env,
  stdin: () => Promise<string> = readStdinLine,
): Promise<{ password: string; generated: boolean }> {
  const sources = [o.passwordStdin, o.generatePassword, env.PALISADE_PASSWORD !== undefined].filter(Boolean).length;
  if (sources > 1)
    throw new CliError('CLI_BAD_OPTION', 'give the password one way: --password-stdin, --generate-password or PALISADE_PASSWORD', 2);
  if (o.generatePassword) return { password: randomBytes(18).toString('base64url'), generated: true };
  const password = o.passwordStdin ? await stdin() : env.PALISADE_PASSWORD;
  if (!password) {
    throw new CliError('CLI_BAD_OPTION', 'no password: pass --password-stdin, --generate-password or set PALISADE_PASSWORD', 2);
  }
  return { password, generated: false };
}

const row = (u: ConsoleUser) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  disabled: u.disabled,
  lastLogin: u.lastLoginAt,
  created: u.createdAt,
});

export function registerUsersCommands(program: Command): void {
  const users = program.command('users').description("Console users of the API key's tenant (username/password login; admin)");

  users
    .command('list')
    .option('--json', 'print JSON')
    .description('List console users (passwords are never shown)')
    .action(async (_o, cmd) => {
      const res = await withApi(() => client(cmd).listUsers());
      show(cmd, res, () => printTable(res.users.map(row), ['id', 'username', 'role', 'disabled', 'lastLogin', 'created']));
    });

  users
    .command('create <username>')
    .option('--json', 'print JSON')
    .description('Create a console user')
    .option('--role <role>', 'admin | operator | auditor')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--generate-password', 'generate a random password and print it once')
    .action(async (username, o, cmd) => {
      if (!o.role || !ROLES.includes(o.role as Role)) throw new CliError('CLI_BAD_OPTION', '--role must be admin, operator or auditor', 2);
      const { password, generated } = await passwordFrom(o);
      const u = await withApi(() => client(cmd).createUser({ username, password, role: o.role as Role }));
      show(cmd, { ...u, ...(generated ? { password } : {}) }, () => {
        process.stdout.write(`created user ${u.username} (${u.role}) ${u.id}\n`);
        if (generated) process.stdout.write(`password (shown once): ${password}\n`);
      });
    });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    users
      .command(`${name} <user>`)
      .option('--json', 'print JSON')
      .description(disabled ? 'Disable a user (by id or username); its sessions end at once' : 'Enable a disabled user again')
      .action(async (ref, _o, cmd) => {
        const u = await withApi(() => client(cmd).updateUser(ref, { disabled }));
        show(cmd, u, () => process.stdout.write(`${disabled ? 'disabled' : 'enabled'} user ${u.username}\n`));
      });
  }

  users
    .command('set-password <user>')
    .option('--json', 'print JSON')
    .description("Set a user's password (by id or username); its sessions end")
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--generate-password', 'generate a random password and print it once')
    .action(async (ref, o, cmd) => {
      const { password, generated } = await passwordFrom(o);
      const u = await withApi(() => client(cmd).setUserPassword(ref, password));
      show(cmd, { ...u, ...(generated ? { password } : {}) }, () => {
        process.stdout.write(`set the password of ${u.username}\n`);
        if (generated) process.stdout.write(`password (shown once): ${password}\n`);
      });
    });
}
