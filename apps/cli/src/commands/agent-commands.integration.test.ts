import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { FakeManager } from '@palisade/agent';
import { registerAgentCommands } from './agent-commands.ts';
import { CliError } from './output.ts';

// Runs the real `palisade agent …` commands as processes (the daemon must stop cleanly on
// SIGTERM), with the commands registered the way main.ts registers them.
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'palisade-agent-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const harness = `
import { Command } from '@commander-js/extra-typings';
import { registerAgentCommands } from ${JSON.stringify(join(here, 'agent-commands.ts'))};
import { CliError } from ${JSON.stringify(join(here, 'output.ts'))};
const program = new Command('palisade');
registerAgentCommands(program);
try { await program.parseAsync(process.argv.slice(1), { from: 'user' }); }
catch (err) {
  if (err instanceof CliError) { process.stderr.write('error ' + err.code + ': ' + err.message + '\\n'); process.exit(err.exitCode); }
  throw err;
}`;

function cli(args: string[]): ChildProcess & { out: () => string; err: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', harness, '--', ...args], {
    cwd: repoRoot,
    // no periodic inventory: it would walk this host's whole file system during the test
    env: { ...process.env, PALISADE_AGENT_LOG_LEVEL: 'warn', PALISADE_AGENT_INVENTORY_INTERVAL: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (err += c));
  const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return Object.assign(child, { out: () => out, err: () => err, done });
}

async function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const c = cli(args);
  const code = await c.done;
  return { code, out: c.out(), err: c.err() };
}

test('activate, start, status, test-events and SIGTERM through the CLI', async () => {
  const manager = new FakeManager();
  await manager.start();
  manager.setConfig({ heartbeatSeconds: 1, spool: { maxBytes: 1 << 20 }, modules: {} });
  const dataDir = join(dir, 'agent');
  try {
    // in-process: the refusal keeps the agent's code through CliError (main.ts prints `error CODE: …`)
    const program = new Command('palisade').exitOverride();
    registerAgentCommands(program);
    await assert.rejects(
      program.parseAsync(['agent', 'activate', '--manager', manager.url, '--token', 'wrong-token-000', '--data-dir', dataDir], {
        from: 'user',
      }),
      (err: unknown) => err instanceof CliError && err.code === 'AGENT_ACTIVATION_REFUSED' && /TOKEN_INVALID/.test(err.message),
    );

    const activated = await run(['agent', 'activate', '--manager', manager.url, '--token', 'activation-token-0001', '--data-dir', dataDir, '--json']);
    assert.equal(activated.code, 0, activated.err);
    assert.equal(JSON.parse(activated.out).tenantId, 'primary');

    const daemon = cli(['agent', 'start', '--data-dir', dataDir]);
    try {
      const deadline = Date.now() + 20_000;
      while (!existsSync(join(dataDir, 'agent.sock')) || manager.heartbeats.length === 0) {
        assert.ok(Date.now() < deadline, `daemon did not come up: ${daemon.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const status = await run(['agent', 'status', '--data-dir', dataDir]);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out, /^manager\s+http:\/\/127\.0\.0\.1:\d+: connected/m);
      // the default registry's modules are listed, or the line says there are none
      assert.match(status.out, /^modules(\s+none registered)?$/m);

      const events = await run(['agent', 'test-events', '--count', '250', '--rate', '1000', '--data-dir', dataDir, '--json']);
      assert.equal(events.code, 0, events.err);
      const { runId, emitted } = JSON.parse(events.out);
      assert.equal(emitted, 250);
      const until = Date.now() + 10_000;
      while ([...manager.events.values()].filter((e) => e.details?.runId === runId).length < 250) {
        assert.ok(Date.now() < until, 'test events were not delivered');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      daemon.kill('SIGTERM');
    }
    assert.equal(await daemon.done, 0, daemon.err());
    assert.equal(existsSync(join(dataDir, 'agent.sock')), false, 'SIGTERM ran the shutdown');
    assert.deepEqual(manager.protocolErrors, []);
  } finally {
    await manager.stop();
  }
});
