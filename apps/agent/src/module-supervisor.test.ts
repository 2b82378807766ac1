import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { EffectiveConfig, ModuleConfig, ModuleStatus } from '@palisade/protocol';
import { silentLogger } from './agent-logger.ts';
import type { AgentModule, ModuleCapabilities, ModuleContext, ModuleDiagnostic, ModuleEventInput } from './agent-module.ts';
import { ModuleRegistry } from './module-registry.ts';
import { ModuleSupervisor } from './module-supervisor.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-modules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A module that records what the agent asks of it; `settings.level` must be a number 0..9. */
class RecordingModule implements AgentModule {
  readonly calls: string[] = [];
  ctx: ModuleContext | undefined;
  current: ModuleConfig | undefined;
  failStart = false;
  constructor(
    readonly name: string,
    private readonly caps: ModuleCapabilities = { supported: true },
  ) {}
  async capabilities() {
    this.calls.push('capabilities');
    return this.caps;
  }
  configure(config: ModuleConfig): ModuleDiagnostic[] {
    this.calls.push('configure');
    const level = config.settings.level;
    if (level !== undefined && (typeof level !== 'number' || level < 0 || level > 9)) {
      return [{ code: 'TEST_LEVEL_INVALID', message: 'level must be 0..9', severity: 'error' }];
    }
    return [];
  }
  async start(ctx: ModuleContext) {
    this.calls.push('start');
    if (this.failStart) throw new Error('cannot open device');
    this.ctx = ctx;
    this.current = ctx.config;
  }
  async reconfigure(config: ModuleConfig) {
    this.calls.push('reconfigure');
    this.current = config;
  }
  async stop() {
    this.calls.push('stop');
    this.ctx = undefined;
  }
  status(): ModuleStatus {
    return { state: 'running', details: { level: this.current?.settings.level ?? 0 } };
  }
}

function setup(...modules: AgentModule[]) {
  const registry = new ModuleRegistry();
  for (const m of modules) registry.register(m);
  const emitted: { module: string; input: ModuleEventInput }[] = [];
  const supervisor = new ModuleSupervisor({
    registry,
    modulesDir: join(dir, String(Math.random()).slice(2)),
    logger: silentLogger(),
    emitterFor: (m) => (input) => {
      emitted.push({ module: m.name, input });
      return { id: '00000000-0000-4000-8000-000000000000', time: '', module: 'system', ...input };
    },
    lifecycleTimeoutMs: 1_000,
  });
  return { supervisor, emitted };
}

const config = (modules: EffectiveConfig['modules']): EffectiveConfig => ({
  heartbeatSeconds: 10,
  spool: { maxBytes: 1 << 20 },
  modules,
});
const on = (level?: number, mode: ModuleConfig['mode'] = 'detect'): ModuleConfig => ({
  enabled: true,
  mode,
  settings: level === undefined ? {} : { level },
});

test('registry refuses names outside the protocol and duplicates', () => {
  const r = new ModuleRegistry();
  assert.throws(() => r.register(new RecordingModule('antivirus')), /AGENT_MODULE_NAME_INVALID|not one of/);
  assert.throws(() => r.register(new RecordingModule('system')));
  r.register(new RecordingModule('ips'));
  assert.throws(() => r.register(new RecordingModule('ips')), /twice/);
  assert.equal(r.size, 1);
});

test('a module is started, reconfigured only on change, and stopped when disabled', async () => {
  const ips = new RecordingModule('ips');
  const { supervisor, emitted } = setup(ips);
  await supervisor.probeCapabilities();
  assert.deepEqual(supervisor.statuses(), { ips: { state: 'off', reason: 'waiting for the first configuration' } });

  assert.equal((await supervisor.apply(config({ ips: on(1) }), 'h1')).ok, true);
  assert.equal(supervisor.configHash, 'h1');
  assert.deepEqual(ips.calls, ['capabilities', 'configure', 'start']);
  assert.ok(ips.ctx && existsSync(ips.ctx.dataDir), 'the module gets its own directory');
  ips.ctx?.emit({ type: 'alert', severity: 'high', message: 'hello' });
  assert.deepEqual(
    emitted.map((e) => e.module),
    ['ips'],
  );
  assert.deepEqual(supervisor.statuses().ips, { state: 'running', details: { level: 1 } });

  await supervisor.apply(config({ ips: on(1) }), 'h2'); // same module settings: nothing to redo
  assert.deepEqual(ips.calls.slice(3), ['configure']);
  await supervisor.apply(config({ ips: on(2, 'prevent') }), 'h3');
  assert.deepEqual(ips.calls.slice(4), ['configure', 'reconfigure']);
  assert.equal(ips.current?.mode, 'prevent');

  await supervisor.apply(config({ ips: { enabled: false, mode: 'detect', settings: {} } }), 'h4');
  assert.equal(ips.calls.at(-1), 'stop');
  assert.deepEqual(supervisor.statuses().ips, { state: 'off', reason: 'disabled by configuration' });
  await supervisor.apply(config({}), 'h5'); // absent = off: nothing more to stop
  assert.equal(ips.calls.filter((c) => c === 'stop').length, 1);
});

test('one invalid module setting keeps the previous configuration everywhere', async () => {
  const ips = new RecordingModule('ips');
  const fw = new RecordingModule('firewall');
  const { supervisor } = setup(ips, fw);
  await supervisor.probeCapabilities();
  await supervisor.apply(config({ ips: on(1), firewall: on(1) }), 'good');
  const callsBefore = [...ips.calls];

  const result = await supervisor.apply(config({ ips: on(5), firewall: on(42) }), 'bad');
  assert.equal(result.ok, false);
  assert.equal(result.diagnostics[0].code, 'TEST_LEVEL_INVALID');
  assert.equal(result.diagnostics[0].file, 'modules.firewall');
  assert.equal(supervisor.configHash, 'good');
  assert.equal(ips.current?.settings.level, 1, 'the valid module was not reconfigured either');
  assert.deepEqual(ips.calls, [...callsBefore, 'configure']);
  const fwStatus = supervisor.statuses().firewall;
  assert.equal(fwStatus.state, 'running');
  assert.match(fwStatus.reason ?? '', /configuration bad refused \(TEST_LEVEL_INVALID/);
  assert.equal(fwStatus.details?.rejectedConfigHash, 'bad');
  assert.equal(supervisor.statuses().ips.reason, undefined);

  // the next good configuration clears the complaint
  await supervisor.apply(config({ ips: on(5), firewall: on(3) }), 'good2');
  assert.equal(supervisor.statuses().firewall.reason, undefined);
  assert.equal(fw.current?.settings.level, 3);
});

test('a configuration that breaks the schema is refused with its path, and every module says so', async () => {
  const ips = new RecordingModule('ips');
  const { supervisor } = setup(ips);
  await supervisor.probeCapabilities();
  await supervisor.apply(config({ ips: on(1) }), 'good');
  const result = await supervisor.apply({ heartbeatSeconds: 0, spool: { maxBytes: 10 }, modules: { ips: on(2) } }, 'broken');
  assert.equal(supervisor.configHash, 'good');
  assert.equal(ips.current?.settings.level, 1);
  assert.match(supervisor.statuses().ips.reason ?? '', /configuration broken refused \(AGENT_CONFIG_INVALID: \/heartbeatSeconds/);
  assert.equal(result.ok, false);
  const messages = result.diagnostics.map((d) => d.message).join('\n');
  assert.match(messages, /\/heartbeatSeconds/);
  assert.match(messages, /\/spool\/maxBytes/);
  assert.ok(result.diagnostics.every((d) => d.code === 'AGENT_CONFIG_INVALID'));
});

test('an unsupported module reports why and is never started; a failing start is an error, not a crash', async () => {
  const fw = new RecordingModule('firewall', { supported: false, reason: 'nft not found' });
  const ips = new RecordingModule('ips');
  ips.failStart = true;
  const im = new RecordingModule('integrity');
  const { supervisor } = setup(fw, ips, im);
  await supervisor.probeCapabilities();
  assert.equal((await supervisor.apply(config({ firewall: on(), ips: on(), integrity: on() }), 'h')).ok, true);
  const statuses = supervisor.statuses();
  assert.deepEqual(statuses.firewall, { state: 'unsupported', reason: 'nft not found' });
  assert.equal(fw.calls.includes('start'), false);
  assert.equal(statuses.ips.state, 'error');
  assert.match(statuses.ips.reason ?? '', /cannot open device/);
  assert.equal(statuses.integrity.state, 'running', 'the other modules still run');
  await supervisor.stopAll();
  assert.equal(im.calls.at(-1), 'stop');
  assert.equal(ips.calls.includes('stop'), false, 'a module that never started is not stopped');
});

test('module commands run only while their module runs, and kinds carry the module name', async () => {
  const fw = new RecordingModule('firewall');
  const seen: unknown[] = [];
  Object.assign(fw, {
    commands: {
      'firewall.block': async (args: Record<string, unknown>) => {
        seen.push(args);
        return { blocked: args.address };
      },
    },
  });
  const { supervisor } = setup(fw);
  await supervisor.probeCapabilities();
  const handlers = supervisor.commandHandlers();
  const command = { id: 'c1', kind: 'firewall.block', args: { address: '198.51.100.7' }, createdAt: '' };
  const signal = new AbortController().signal;
  await assert.rejects(handlers['firewall.block']!(command, signal), /the firewall module is not running \(off: waiting/);
  await supervisor.apply(config({ firewall: on(1) }), 'h1');
  assert.deepEqual(await handlers['firewall.block']!(command, signal), { blocked: '198.51.100.7' });
  assert.deepEqual(seen, [{ address: '198.51.100.7' }]);

  const rogue = new RecordingModule('ips');
  Object.assign(rogue, { commands: { 'firewall.unblock': async () => undefined } });
  assert.throws(() => setup(rogue).supervisor.commandHandlers(), /must start with "ips\."/);
});
