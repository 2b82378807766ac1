import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PalisadeClient } from '@palisade/api-client';
import { nodeTransport } from '@palisade/api-client/node';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliMain = join(repoRoot, 'apps/cli/src/main.ts');
const tsx = import.meta.resolve('tsx');
/** Extra Node flags for the processes started here, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a scenario. */
const nodeArgs = (process.env.PALISADE_E2E_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Polls until `check` returns a truthy value or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A `palisade …` process whose output goes to a log file in its folder. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: string[], logFile: string, env: NodeJS.ProcessEnv = {}) {
    const log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [...nodeArgs, '--import', tsx, cliMain, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.pipe(log);
    this.child.stderr!.pipe(log);
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.kill('SIGTERM');
    const t = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Runs `palisade …` to completion and returns its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, cliMain, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ManagerProcess {
  proc: CliProcess;
  url: string;
  caFile: string;
  adminKey: string;
  client: PalisadeClient;
  dataDir: string;
}

/** `palisade manager start` as a real process; resolves once /health answers. */
/** `adminKey`: for a node joining an installation whose first node created the admin key. */
export async function startManagerProcess(opts: {
  dataDir: string;
  port: number;
  db?: string;
  name?: string;
  adminKey?: string;
}): Promise<ManagerProcess> {
  mkdirSync(opts.dataDir, { recursive: true });
  const proc = new CliProcess(
    [
      'manager',
      'start',
      '--data-dir',
      opts.dataDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(opts.port),
      '--db',
      opts.db ?? 'sqlite',
      '--log-level',
      'warn',
    ],
    join(opts.dataDir, `${opts.name ?? 'manager'}.log`),
  );
  const url = `https://127.0.0.1:${opts.port}`;
  const caFile = join(opts.dataDir, 'tls', 'ca.pem');
  await waitFor(
    `manager on ${url}`,
    async () => {
      if (proc.child.exitCode !== null)
        throw new Error(`manager exited: ${readFileSync(join(opts.dataDir, `${opts.name ?? 'manager'}.log`), 'utf8').slice(-2000)}`);
      if (!existsSync(caFile)) return false;
      const res = await nodeTransport(readFileSync(caFile, 'utf8'))({ method: 'GET', url: `${url}/health`, headers: {} });
      return res.status === 200;
    },
    60_000,
    200,
  );
  const adminKey = opts.adminKey ?? readFileSync(join(opts.dataDir, 'admin-api-key'), 'utf8').trim();
  const client = new PalisadeClient({ url, apiKey: adminKey, transport: nodeTransport(readFileSync(caFile, 'utf8')) });
  return { proc, url, caFile, adminKey, client, dataDir: opts.dataDir };
}

export interface AgentProcess {
  proc: CliProcess;
  dataDir: string;
  agentId: string;
}

/** Activates an agent into `dataDir` with a fresh one-use token (`palisade agent activate`); returns its id. */
export async function activateAgent(
  manager: Pick<ManagerProcess, 'url' | 'caFile' | 'client'>,
  dataDir: string,
  policyId?: string,
): Promise<string> {
  mkdirSync(dataDir, { recursive: true });
  const { token } = await manager.client.createToken({ maxUses: 1, ttlSeconds: 600, ...(policyId ? { policyId } : {}) });
  const act = await runCli([
    'agent',
    'activate',
    '--manager',
    manager.url,
    '--token',
    token,
    '--ca',
    manager.caFile,
    '--data-dir',
    dataDir,
    '--json',
  ]);
  if (act.code !== 0) throw new Error(`activation failed: ${act.stderr}${act.stdout}`);
  return (JSON.parse(act.stdout) as { agentId: string }).agentId;
}

/** Activates an agent with a fresh token, then runs `palisade agent start` as a real process. */
export async function startAgentProcess(
  manager: Pick<ManagerProcess, 'url' | 'caFile' | 'client'>,
  dataDir: string,
  opts: { policyId?: string; hostname?: string } = {},
): Promise<AgentProcess> {
  const agentId = await activateAgent(manager, dataDir, opts.policyId);
  // No periodic inventory walk of the test machine: tests that want one send `send-inventory`.
  const proc = new CliProcess(['agent', 'start', '--data-dir', dataDir, '--inventory-interval', '0'], join(dataDir, 'agent.log'));
  await waitFor('agent control socket', () => existsSync(join(dataDir, 'agent.sock')), 60_000);
  return { proc, dataDir, agentId };
}
