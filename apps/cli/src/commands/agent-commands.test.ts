import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import type { AgentStatusReport } from '@palisade/agent';
import { formatAgentStatus, registerAgentCommands } from './agent-commands.ts';
import { CliError } from './output.ts';

const report: AgentStatusReport = {
  agentId: 'a1',
  tenantId: 'primary',
  managerUrl: 'https://m:4119',
  dataDir: '/var/lib/palisade-agent',
  agentVersion: '0.1.0',
  pid: 42,
  startedAt: '2026-01-01T00:00:00.000Z',
  connection: { state: 'disconnected', lastContactAt: null, lastError: { code: 'AGENT_MANAGER_UNREACHABLE', message: 'ECONNREFUSED', at: '' } },
  lastHeartbeat: null,
  heartbeatSeconds: 10,
  configHash: 'abc',
  lastConfigError: { hash: 'def', at: '', diagnostics: [{ code: 'AGENT_CONFIG_INVALID', message: '/heartbeatSeconds: must be >= 1', severity: 'error' }] },
  modules: { firewall: { state: 'unsupported', reason: 'nft not found' } },
  spool: { pending: 3, pendingBytes: 900, maxBytes: 65536, dropped: 1, rejected: 0, acked: 7 },
  sender: { batchesSent: 1, eventsAcked: 7, failures: 2 },
};

test('status text shows the link error, the refused config, modules and spool counters', () => {
  const text = formatAgentStatus(report);
  assert.match(text, /^manager\s+https:\/\/m:4119: disconnected, last contact never$/m);
  assert.match(text, /^last error\s+AGENT_MANAGER_UNREACHABLE: ECONNREFUSED$/m);
  assert.match(text, /^refused\s+def: AGENT_CONFIG_INVALID/m);
  assert.match(text, /^ {2}firewall\s+unsupported\s+nft not found$/m);
  assert.match(text, /^spool\s+3 pending \(900 of 65536 bytes\), 1 dropped, 0 rejected, 7 delivered$/m);
});

test('bad --count and --rate are refused with AGENT_BAD_ARGUMENT before contacting the agent', async () => {
  for (const args of [['--count', 'many'], ['--count', '0'], ['--count', '5', '--rate', '-1']]) {
    const program = new Command('palisade').exitOverride();
    registerAgentCommands(program);
    await assert.rejects(
      program.parseAsync(['agent', 'test-events', ...args, '--data-dir', '/nonexistent'], { from: 'user' }),
      (err: unknown) => err instanceof CliError && err.code === 'AGENT_BAD_ARGUMENT',
    );
  }
});

test('--ca reaches activation even when the program declares a global --ca (as main.ts does)', async () => {
  const program = new Command('palisade').exitOverride().option('--ca <file>').option('--json');
  registerAgentCommands(program);
  await assert.rejects(
    program.parseAsync(
      ['agent', 'activate', '--manager', 'https://127.0.0.1:1', '--token', 'abcdefghijkl', '--ca', '/nonexistent/ca.pem', '--data-dir', '/nonexistent/agent'],
      { from: 'user' },
    ),
    (err: unknown) => err instanceof CliError && err.code === 'AGENT_CA_UNREADABLE',
  );
});
