import net from 'node:net';
import { AgentError } from './agent-error.ts';
import type { AgentStatusReport } from './agent-status-report.ts';
import { dataDirPaths, resolveDataDir } from './data-dir.ts';
import type { TestEventsResult } from './test-event-generator.ts';

export interface ControlClientOptions {
  dataDir?: string;
  /** Overrides `<data-dir>/agent.sock`. */
  socketPath?: string;
  timeoutMs?: number;
}

function socketPathOf(options: ControlClientOptions): string {
  return options.socketPath ?? dataDirPaths(resolveDataDir(options.dataDir)).socket;
}

/** Sends one request line to a running agent and waits for its one response line. */
export function controlRequest(method: string, params: Record<string, unknown> = {}, options: ControlClientOptions = {}): Promise<unknown> {
  const path = socketPathOf(options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let buffer = '';
    let settled = false;
    const finish = (err: Error | null, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new AgentError('AGENT_CONTROL_TIMEOUT', `no answer on ${path} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify({ id: 1, method, params })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      let response: { ok?: boolean; result?: unknown; error?: { code?: string; message?: string } };
      try {
        response = JSON.parse(buffer.slice(0, nl));
      } catch {
        finish(new AgentError('AGENT_CONTROL_BAD_RESPONSE', 'the agent sent a line that is not JSON'));
        return;
      }
      if (response.ok) finish(null, response.result);
      else {
        finish(new AgentError(response.error?.code ?? 'AGENT_INTERNAL', response.error?.message ?? 'the agent reported an error'));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const notRunning = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      finish(
        new AgentError(
          notRunning ? 'AGENT_NOT_RUNNING' : 'AGENT_CONTROL_FAILED',
          notRunning ? `no agent is running on ${path} (${err.code})` : `control socket ${path}: ${err.message}`,
        ),
      );
    });
    socket.on('end', () => finish(new AgentError('AGENT_CONTROL_BAD_RESPONSE', 'the agent closed the socket without an answer')));
  });
}

/** true when an agent answers on the data dir's control socket. */
export function isAgentRunning(options: ControlClientOptions = {}): Promise<boolean> {
  const path = socketPathOf(options);
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function getAgentStatus(options: ControlClientOptions = {}): Promise<AgentStatusReport> {
  return (await controlRequest('status', {}, options)) as AgentStatusReport;
}

/**
 * Asks the running agent to emit `count` synthetic events (module `system`, type `test`); the
 * answer comes when all are in the spool. `rate` is events per second (default: as fast as possible).
 */
export async function requestTestEvents(
  params: { count: number; rate?: number },
  options: ControlClientOptions = {},
): Promise<TestEventsResult> {
  const expectedMs = params.rate ? (params.count / params.rate) * 1000 : params.count / 10;
  const timeoutMs = options.timeoutMs ?? Math.max(10_000, expectedMs * 2 + 10_000);
  return (await controlRequest('test-events', params, { ...options, timeoutMs })) as TestEventsResult;
}

/**
 * Runs a module's command (`anti-malware.quarantine-restore`, ...) in the running agent, as the
 * manager would; the module must be running. Long operations (scans) get a long timeout.
 */
export async function requestModuleCommand(
  kind: string,
  args: Record<string, unknown> = {},
  options: ControlClientOptions = {},
): Promise<Record<string, unknown>> {
  return (await controlRequest('module-command', { kind, args }, { timeoutMs: 60_000, ...options })) as Record<string, unknown>;
}
