import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { AgentEvent, EffectiveConfig, HostFacts, ModuleConfig, ModuleStatus } from '@palisade/protocol';
import { activateAgent } from './activate-agent.ts';
import { isAgentError } from './agent-error.ts';
import { silentLogger } from './agent-logger.ts';
import type { AgentModule, ModuleContext, ModuleDiagnostic } from './agent-module.ts';
import { controlRequest, getAgentStatus, requestTestEvents } from './control-client.ts';
import { EventSpool } from './event-spool.ts';
import { ModuleRegistry } from './module-registry.ts';
import { type AgentHandle, runAgent } from './run-agent.ts';
import { FakeManager } from './testing/fake-manager.ts';

const root = mkdtempSync(join(tmpdir(), 'palisade-agent-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDataDir = () => join(root, `d${dirs++}`);
const host: HostFacts = { hostname: 'test-host', platform: 'linux/debian 12', ips: ['10.0.0.5'], agentVersion: '0.1.0' };
const TOKEN = 'activation-token-0001';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The in-test module: `settings.rules` must be an array; it counts its starts and configs. */
class ProbeModule implements AgentModule {
  readonly name = 'ips';
  starts = 0;
  reconfigs = 0;
  ctx: ModuleContext | undefined;
  config: ModuleConfig | undefined;
  async capabilities() {
    return { supported: true };
  }
  configure(config: ModuleConfig): ModuleDiagnostic[] {
    const rules = config.settings.rules;
    return rules === undefined || Array.isArray(rules)
      ? []
      : [{ code: 'TEST_RULES_INVALID', message: 'rules must be a list', severity: 'error' }];
  }
  async start(ctx: ModuleContext) {
    this.starts++;
    this.ctx = ctx;
    this.config = ctx.config;
  }
  async reconfigure(config: ModuleConfig) {
    this.reconfigs++;
    this.config = config;
  }
  async stop() {
    this.ctx = undefined;
  }
  status(): ModuleStatus {
    return { state: 'running', details: { rules: (this.config?.settings.rules as unknown[] | undefined)?.length ?? 0 } };
  }
}

const cfg = (rules: unknown, heartbeatSeconds = 1): EffectiveConfig => ({
  heartbeatSeconds,
  spool: { maxBytes: 8 << 20 },
  modules: {
    ips: { enabled: true, mode: 'detect', settings: { rules } },
    firewall: { enabled: true, mode: 'detect', settings: {} },
  },
});

function start(dataDir: string, registry = new ModuleRegistry()): Promise<AgentHandle> {
  return runAgent({
    dataDir,
    registry,
    logger: silentLogger(),
    hostFacts: () => host,
    startupConfigTimeoutMs: 1_000,
    commandWaitSeconds: 5,
    senderLingerMs: 20,
    inventoryIntervalMs: 0, // the inventory walks the host's file system; not what these tests are about
    commandHandlers: {
      'echo-args': async (command) => ({ args: command.args }),
      'always-fails': async () => {
        throw new Error('disk on fire');
      },
    },
  });
}

test('activation refused by the manager keeps its code and message and writes nothing', async () => {
  const manager = new FakeManager();
  await manager.start();
  const dataDir = newDataDir();
  try {
    await assert.rejects(
      activateAgent({ managerUrl: manager.url, token: 'revoked-token-123', dataDir, host }),
      (err: unknown) =>
        isAgentError(err) &&
        err.code === 'AGENT_ACTIVATION_REFUSED' &&
        /HTTP 401 TOKEN_INVALID/.test(err.message) &&
        /unknown or revoked/.test(err.message),
    );
    assert.equal(existsSync(join(dataDir, 'agent.json')), false);
    await assert.rejects(
      activateAgent({ managerUrl: 'ftp://x', token: TOKEN, dataDir, host }),
      (err: unknown) => isAgentError(err) && err.code === 'AGENT_BAD_MANAGER_URL',
    );
  } finally {
    await manager.stop();
  }
  await assert.rejects(
    activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host, timeoutMs: 2_000 }),
    (err: unknown) => isAgentError(err) && err.code === 'AGENT_MANAGER_UNREACHABLE',
  );
});

test('start-up without an identity fails with AGENT_NOT_ACTIVATED and leaves nothing open', async () => {
  const dataDir = newDataDir();
  await assert.rejects(start(dataDir), (err: unknown) => isAgentError(err) && err.code === 'AGENT_NOT_ACTIVATED');
  assert.equal(existsSync(join(dataDir, 'agent.sock')), false);
});

test('activate, run, heartbeat, apply config, answer commands, deliver events, refuse a bad config', async () => {
  const manager = new FakeManager();
  await manager.start();
  const dataDir = newDataDir();
  const hash1 = manager.setConfig(cfg(['r1']));
  const outcome = await activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host, tags: { env: 'test' } });
  assert.equal(outcome.tenantId, 'primary');
  const identityFile = join(dataDir, 'agent.json');
  assert.equal(statSync(identityFile).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(identityFile, 'utf8')).managerUrl, manager.url);
  assert.deepEqual(manager.agents.get(outcome.agentId)?.host, { ...host, tags: { env: 'test' } });
  await assert.rejects(
    activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host }),
    (err: unknown) => isAgentError(err) && err.code === 'AGENT_ALREADY_ACTIVATED',
  );

  const probe = new ProbeModule();
  const agent = await start(dataDir, new ModuleRegistry().register(probe));
  try {
    // the config fetched during start-up is running before runAgent returns
    assert.equal(probe.starts, 1);
    assert.deepEqual(probe.config?.settings.rules, ['r1']);
    assert.equal(statSync(join(dataDir, 'agent.sock')).mode & 0o777, 0o600);
    await assert.rejects(start(dataDir), (err: unknown) => isAgentError(err) && err.code === 'AGENT_ALREADY_RUNNING');
    await assert.rejects(
      activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host, force: true }),
      (err: unknown) => isAgentError(err) && err.code === 'AGENT_ALREADY_RUNNING',
    );

    await until('a heartbeat', () => manager.heartbeats.length > 0);
    const hb = manager.heartbeats[0];
    assert.equal(hb.configHash, hash1);
    assert.deepEqual(hb.host.tags, { env: 'test' }, 'activation tags ride along with heartbeats');
    assert.deepEqual(Object.keys(hb.modules), ['ips'], 'the heartbeat reports exactly the registered modules');
    assert.equal(hb.modules.ips.state, 'running');

    const status = await getAgentStatus({ dataDir });
    assert.equal(status.agentId, outcome.agentId);
    assert.equal(status.connection.state, 'connected');
    assert.equal(status.configHash, hash1);
    assert.ok(status.lastHeartbeat?.ok);

    // commands by long-poll
    const ping = manager.queueCommand('ping');
    assert.equal((await manager.waitForResult(ping)).status, 'succeeded');
    const unknown = await manager.waitForResult(manager.queueCommand('self-destruct'));
    assert.equal(unknown.status, 'failed');
    assert.match(unknown.error ?? '', /unknown command kind "self-destruct"/);
    // handlers given to runAgent add command kinds; a throwing one answers failed with its message
    const echoed = await manager.waitForResult(manager.queueCommand('echo-args', { n: 42 }));
    assert.deepEqual(echoed, { status: 'succeeded', result: { args: { n: 42 } } });
    const broken = await manager.waitForResult(manager.queueCommand('always-fails'));
    assert.deepEqual(broken, { status: 'failed', error: 'disk on fire' });

    // a new config through update-config: the module is reconfigured, not restarted
    const hash2 = manager.setConfig(cfg(['r1', 'r2']));
    const upd = await manager.waitForResult(manager.queueCommand('update-config'));
    assert.deepEqual(upd, { status: 'succeeded', result: { configHash: hash2, outcome: 'applied' } });
    assert.equal(probe.starts, 1);
    assert.equal(probe.reconfigs, 1);
    await until('a heartbeat with the new hash', () => manager.heartbeats.at(-1)?.configHash === hash2);

    // an invalid module setting: refused, the previous config keeps running, the manager hears of it
    const bad = manager.setConfig(cfg('not-a-list'));
    await until('the refusal', async () => (await getAgentStatus({ dataDir })).lastConfigError?.hash === bad);
    assert.deepEqual(probe.config?.settings.rules, ['r1', 'r2']);
    const after = await getAgentStatus({ dataDir });
    assert.equal(after.configHash, hash2);
    assert.match(after.modules.ips.reason ?? '', /refused \(TEST_RULES_INVALID/);
    await until('the config-refused event', () =>
      [...manager.events.values()].some((e) => e.type === 'config-refused' && e.details?.hash === bad),
    );
    await until('a heartbeat reporting the refusal', () =>
      /refused/.test(manager.heartbeats.at(-1)?.modules.ips.reason ?? ''),
    );

    // events from a module and test-events from the CLI path reach the manager exactly once
    const moduleEvent = probe.ctx?.emit({ type: 'sqli', severity: 'high', message: 'blocked', ruleId: '942100' });
    const result = await requestTestEvents({ count: 300 }, { dataDir });
    assert.equal(result.emitted, 300);
    assert.equal(result.stored, 300);
    await until('all events delivered', () => (agent.status().spool.pending === 0));
    const tests = [...manager.events.values()].filter((e) => e.type === 'test' && e.details?.runId === result.runId);
    assert.equal(tests.length, 300);
    assert.equal(manager.events.get(moduleEvent?.id ?? '')?.module, 'ips');
    assert.ok(Math.max(...manager.eventBatches) <= 500);

    await assert.rejects(
      requestTestEvents({ count: 0 }, { dataDir }),
      (err: unknown) => isAgentError(err) && err.code === 'AGENT_BAD_ARGUMENT',
    );
    await assert.rejects(
      controlRequest('reboot', {}, { dataDir }),
      (err: unknown) => isAgentError(err) && err.code === 'AGENT_CONTROL_UNKNOWN_METHOD',
    );
    assert.deepEqual(manager.protocolErrors, []);
  } finally {
    await agent.stop();
    await manager.stop();
  }
  assert.equal(existsSync(join(dataDir, 'agent.sock')), false, 'shutdown removes the socket');
  await assert.rejects(getAgentStatus({ dataDir }), (err: unknown) => isAgentError(err) && err.code === 'AGENT_NOT_RUNNING');
});

test('events survive a manager outage and an agent restart, and arrive once each', async () => {
  const manager = new FakeManager();
  await manager.start();
  const port = manager.port;
  manager.setConfig(cfg([]));
  const dataDir = newDataDir();
  await activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host });
  let agent = await start(dataDir);
  try {
    await until('a heartbeat', () => manager.heartbeats.length > 0);
    await manager.stop();
    const paced = await requestTestEvents({ count: 100, rate: 500 }, { dataDir });
    assert.equal(paced.emitted, 100);
    assert.ok(paced.seconds >= 0.15, `100 events at 500/s took ${paced.seconds} s`);
    const first = await requestTestEvents({ count: 200 }, { dataDir });
    await until('the agent to notice the outage', () => agent.status().connection.state === 'disconnected');
    assert.equal(agent.status().spool.pending, 300);

    // the agent restarts while the manager is still down: it starts from the cached config
    await agent.stop();
    agent = await start(dataDir);
    assert.equal(agent.status().spool.pending, 300);
    assert.notEqual(agent.status().configHash, '', 'the cached configuration is running');
    const second = await requestTestEvents({ count: 200 }, { dataDir });

    await manager.start(port);
    const back = Date.now();
    await until('delivery after the manager returns', () => agent.status().spool.pending === 0, 15_000);
    assert.ok(Date.now() - back < 8_000, 'delivery resumes within seconds');
    for (const run of [paced, first, second]) {
      const got = [...manager.events.values()].filter((e) => e.details?.runId === run.runId);
      assert.equal(got.length, run.emitted);
    }
    assert.equal(manager.events.size, 500);
    assert.deepEqual(manager.protocolErrors, []);
  } finally {
    await agent.stop();
    await manager.stop();
  }
});

test('a failing events endpoint is retried with backoff and nothing is lost', async () => {
  const manager = new FakeManager();
  await manager.start();
  manager.setConfig(cfg([]));
  const dataDir = newDataDir();
  await activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host });
  manager.failEvents = true;
  const agent = await start(dataDir);
  try {
    const run = await agent.emitTestEvents(50);
    await until('some failed attempts', () => agent.status().sender.failures >= 2);
    assert.equal(agent.status().spool.pending, 50);
    manager.failEvents = false;
    await until('delivery', () => agent.status().spool.pending === 0);
    assert.equal([...manager.events.values()].filter((e) => e.details?.runId === run.runId).length, 50);
  } finally {
    await agent.stop();
    await manager.stop();
  }
});

test('keeps up with 500 events/s: the backlog stays small and drains at once', async () => {
  const manager = new FakeManager();
  await manager.start();
  manager.setConfig(cfg([]));
  const dataDir = newDataDir();
  await activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host });
  const agent = await runAgent({ dataDir, logger: silentLogger(), hostFacts: () => host, commandWaitSeconds: 5, inventoryIntervalMs: 0 });
  try {
    let maxPending = 0;
    const sampler = setInterval(() => {
      maxPending = Math.max(maxPending, agent.status().spool.pending);
    }, 20);
    const run = await agent.emitTestEvents(1_500, 500);
    const emittedAt = Date.now();
    await until('the backlog to drain', () => agent.status().spool.pending === 0, 10_000);
    clearInterval(sampler);
    assert.ok(run.seconds < 3.5, `1,500 events at 500/s took ${run.seconds} s to emit`);
    assert.ok(maxPending < 250, `backlog reached ${maxPending} events (half a second of input)`);
    assert.ok(Date.now() - emittedAt < 2_000, 'the last events left within 2 s');
    assert.equal([...manager.events.values()].filter((e) => e.details?.runId === run.runId).length, 1_500);
  } finally {
    await agent.stop();
    await manager.stop();
  }
});

test('an event the manager refuses is isolated and dropped as rejected; the rest still arrive', async () => {
  const manager = new FakeManager();
  await manager.start();
  manager.setConfig(cfg([]));
  const dataDir = newDataDir();
  await activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host });
  // written straight into the spool, as an older agent version might have left it
  const spool = EventSpool.open(join(dataDir, 'spool.sqlite'));
  const good = Array.from({ length: 40 }, (_, i) => ({
    id: randomUUID(),
    time: new Date().toISOString(),
    module: 'system' as const,
    type: 'test',
    severity: 'info' as const,
    message: `good ${i}`,
  }));
  const poison = { ...good[0], id: randomUUID(), module: 'no-such-module' } as unknown as AgentEvent;
  spool.addMany([...good.slice(0, 17), poison, ...good.slice(17)]);
  spool.close();
  const agent = await start(dataDir);
  try {
    await until('the queue to clear', () => agent.status().spool.pending === 0);
    assert.equal(agent.status().spool.rejected, 1);
    for (const e of good) assert.ok(manager.events.has(e.id));
    assert.equal(manager.events.has(poison.id), false);
  } finally {
    await agent.stop();
    await manager.stop();
  }
});

test('a configuration fetched by command is reported at once, not at the next interval', async () => {
  const manager = new FakeManager();
  await manager.start();
  manager.heartbeatSeconds = 30;
  manager.setConfig(cfg([], 30));
  const dataDir = newDataDir();
  await activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host });
  const agent = await start(dataDir);
  try {
    await until('the first heartbeat', () => manager.heartbeats.length === 1);
    const next = manager.setConfig(cfg(['x'], 30));
    const result = await manager.waitForResult(manager.queueCommand('update-config'));
    assert.equal(result.status, 'succeeded');
    await until('a heartbeat with the new hash', () => manager.heartbeats.at(-1)?.configHash === next, 3_000);
    assert.equal(manager.heartbeats.length, 2);
  } finally {
    await agent.stop();
    await manager.stop();
  }
});

test('a deactivated agent reports unauthorized and stops knocking every few seconds', async () => {
  const manager = new FakeManager();
  await manager.start();
  manager.setConfig(cfg([]));
  const dataDir = newDataDir();
  const { agentId } = await activateAgent({ managerUrl: manager.url, token: TOKEN, dataDir, host });
  const agent = await start(dataDir);
  try {
    await until('a heartbeat', () => manager.heartbeats.length > 0);
    manager.agents.delete(agentId); // what deactivation looks like from the agent's side
    await agent.emitTestEvents(5);
    await until('the refusal to show', () => agent.status().connection.state === 'unauthorized');
    const events = manager.hits.get('/api/agent/v1/events') ?? 0;
    const polls = manager.hits.get('/api/agent/v1/commands') ?? 0;
    await new Promise((r) => setTimeout(r, 2_500));
    assert.ok((manager.hits.get('/api/agent/v1/events') ?? 0) - events <= 1, 'event retries slowed down');
    assert.ok((manager.hits.get('/api/agent/v1/commands') ?? 0) - polls <= 1, 'command polls slowed down');
    assert.equal(agent.status().spool.pending, 5, 'nothing is dropped meanwhile');
    assert.equal(agent.status().connection.lastError?.code, 'AGENT_UNAUTHORIZED');
  } finally {
    await agent.stop();
    await manager.stop();
  }
});
