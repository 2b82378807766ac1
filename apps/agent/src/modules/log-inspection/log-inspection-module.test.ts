import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../../agent-module.ts';
import { journaldAvailability } from './journald-reader.ts';
import { LogInspectionModule } from './log-inspection-module.ts';

const root = mkdtempSync(join(tmpdir(), 'palisade-loginsp-'));
after(() => rmSync(root, { recursive: true, force: true }));

function context(config: ModuleConfig, dataDir: string, events: ModuleEventInput[]): ModuleContext {
  return {
    emit: (e) => {
      events.push(e);
      return { ...e, id: 'x', time: new Date(0).toISOString(), module: 'log-inspection' } as never;
    },
    logger: silentLogger(),
    dataDir,
    config,
  };
}

const failed = (i: number, from = '203.0.113.5'): string =>
  `Nov 27 02:00:${String(i % 60).padStart(2, '0')} web1 sshd[4242]: Failed password for root from ${from} port ${40000 + i} ssh2\n`;

async function until<T>(what: string, f: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('configure: schema errors, relative paths, conflicting and missing rules, all without I/O', () => {
  const m = new LogInspectionModule();
  const cfg = (settings: Record<string, unknown>): ModuleConfig => ({ enabled: true, mode: 'detect', settings });
  assert.deepEqual(m.configure(cfg({})), []);
  assert.equal(m.configure(cfg({ files: [{ path: 'var/log/x' }] }))[0]?.code, 'LOGINSP_SETTINGS_INVALID');
  assert.equal(m.configure(cfg({ files: [{ path: '/x', format: 'xml' }] }))[0]?.code, 'LOGINSP_SETTINGS_INVALID');
  assert.equal(m.configure(cfg({ nope: 1 }))[0]?.code, 'LOGINSP_SETTINGS_INVALID');
  assert.equal(m.configure(cfg({ rules: { bundled: true, wazuhRuleset: '/var/ossec' } }))[0]?.code, 'LOGINSP_RULES_CONFLICT');
  assert.deepEqual(m.configure(cfg({ rules: { wazuhRuleset: '/var/ossec' } })), []);
  assert.equal(m.configure(cfg({ rules: { bundled: false } }))[0]?.code, 'LOGINSP_NO_RULES');
  assert.equal(m.configure(cfg({ minLevel: 17 }))[0]?.code, 'LOGINSP_SETTINGS_INVALID');
});

test('a file source: 8 failed SSH logins from one address become the brute-force alert; a restart resumes where it stopped', async () => {
  const dir = join(root, 'bf');
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const log = join(dir, 'auth.log');
  writeFileSync(log, failed(99, '198.51.100.99'));
  const config: ModuleConfig = { enabled: true, mode: 'detect', settings: { files: [{ path: log }], pollIntervalMs: 50 } };
  const events: ModuleEventInput[] = [];
  const m = new LogInspectionModule();
  assert.deepEqual(m.configure(config), []);
  await m.start(context(config, data, events));
  await until('first poll', () => (m.status().details as { filesFollowed?: number } | undefined)?.filesFollowed === 1);
  for (let i = 0; i < 8; i++) appendFileSync(log, failed(i));
  const bf = await until('brute force alert', () => events.find((e) => e.ruleId === '200110'));
  // startAt end: the line that was there before the module started is not reported.
  assert.ok(!events.some((e) => JSON.stringify(e.details).includes('198.51.100.99')));
  assert.equal(events.filter((e) => e.ruleId === '200101').length, 7);
  assert.equal(bf.type, 'log-inspection.alert');
  assert.equal(bf.severity, 'high');
  const d = bf.details as Record<string, unknown>;
  assert.equal(d.level, 10);
  assert.equal(d.location, log);
  assert.equal(d.source, 'file');
  assert.equal(d.decoder, 'sshd');
  assert.ok((d.groups as string[]).includes('brute_force'));
  assert.deepEqual((d.fields as Record<string, string>).srcip, '203.0.113.5');
  assert.equal(d.fullLog, failed(7).trimEnd());
  assert.match(bf.message, /brute force, 8 failed logins from 203\.0\.113\.5/);
  await m.stop();

  // Lines written while the module is stopped, and a rotation meanwhile: read on the next start.
  appendFileSync(log, failed(20, '192.0.2.20'));
  renameSync(log, `${log}.1`);
  writeFileSync(log, failed(21, '192.0.2.21'));
  const events2: ModuleEventInput[] = [];
  const m2 = new LogInspectionModule();
  await m2.start(context(config, data, events2));
  await until('both lines after the restart', () => events2.length >= 2);
  await new Promise((r) => setTimeout(r, 300));
  await m2.stop();
  assert.deepEqual(
    events2.map((e) => (e.details as { fields: { srcip: string } }).fields.srcip),
    ['192.0.2.20', '192.0.2.21'],
  );
});

test('a rule with a runaway regex: the line is skipped and reported, collection goes on', async () => {
  const dir = join(root, 'patho');
  const rules = join(dir, 'rules');
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(rules, { recursive: true });
  writeFileSync(join(rules, 'patho-decoder.xml'), '<decoder name="patho"><program_name>^patho$</program_name></decoder>');
  writeFileSync(
    join(rules, 'patho-rules.xml'),
    '<group name="test,"><rule id="299000" level="7"><decoded_as>patho</decoded_as><regex>\\w+\\w+\\w+\\w+\\w+\\.\\d\\s</regex><description>pathological</description></rule></group>',
  );
  const log = join(dir, 'app.log');
  writeFileSync(log, '');
  const config: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: { files: [{ path: log }], rules: { dirs: [rules] }, lineBudgetMs: 200, pollIntervalMs: 50 },
  };
  const events: ModuleEventInput[] = [];
  const m = new LogInspectionModule();
  await m.start(context(config, join(dir, 'data'), events));
  await until('first poll', () => (m.status().details as { filesFollowed?: number } | undefined)?.filesFollowed === 1);
  const started = Date.now();
  appendFileSync(log, `Nov 27 02:00:00 web1 patho[1]: ${'a'.repeat(200)}!\n${failed(1)}`);
  const alert = await until('alert after the runaway line', () => events.find((e) => e.ruleId === '200101'));
  assert.ok(Date.now() - started < 15_000);
  const skipped = events.find((e) => e.type === 'log-inspection.line-skipped');
  assert.ok(skipped, 'the skipped line is reported');
  assert.equal((skipped.details as { reason: string }).reason, 'timeout');
  assert.ok(events.indexOf(skipped) < events.indexOf(alert));
  assert.equal((m.status().details as { engineRestarts: number }).engineRestarts, 1);
  await m.stop();
});

test('broken rules: start fails with the rule file and line, nothing runs', async () => {
  const dir = join(root, 'broken');
  mkdirSync(join(dir, 'rules'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(
    join(dir, 'rules', 'bad.xml'),
    '<group name="x,">\n<rule id="299001" level="3"><regex type="pcre2">(</regex><description>d</description></rule></group>',
  );
  const config: ModuleConfig = { enabled: true, mode: 'detect', settings: { rules: { bundled: false, dirs: [join(dir, 'rules')] } } };
  const m = new LogInspectionModule();
  await assert.rejects(m.start(context(config, join(dir, 'data'), [])), /LOGINSP_RULES_INVALID: .*bad\.xml:2/);
  assert.equal(m.status().state, 'error');
  await m.stop();
});

test('journald configured where there is no journal: the source is skipped and the status says why', async (t) => {
  if (journaldAvailability().available) return t.skip('this host has a journal; covered by journald-reader.integration.test.ts');
  const dir = join(root, 'nojournal');
  mkdirSync(dir, { recursive: true });
  const config: ModuleConfig = { enabled: true, mode: 'detect', settings: { journald: {} } };
  const m = new LogInspectionModule();
  await m.start(context(config, dir, []));
  const st = m.status();
  assert.equal(st.state, 'running');
  assert.match(String((st.details as { journald: string }).journald), /^unavailable: /);
  await m.stop();
});

const SHARED = process.env.PALISADE_SHARED ?? fileURLToPath(new URL('../../../../../../shared', import.meta.url));
const WAZUH = join(SHARED, 'wazuh-ruleset');

test('with the Wazuh ruleset: 8 failed logins for a non-existent user from one address fire Wazuh 5712', async (t) => {
  if (!existsSync(join(WAZUH, 'ruleset', 'rules'))) return t.skip(`no Wazuh ruleset in ${WAZUH}`);
  const dir = join(root, 'wazuh');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const log = join(dir, 'secure');
  writeFileSync(log, '');
  const config: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: { files: [{ path: log }], rules: { wazuhRuleset: WAZUH }, pollIntervalMs: 50 },
  };
  const events: ModuleEventInput[] = [];
  const m = new LogInspectionModule();
  await m.start(context(config, join(dir, 'data'), events));
  await until('first poll', () => (m.status().details as { filesFollowed?: number } | undefined)?.filesFollowed === 1);
  for (let i = 0; i < 8; i++)
    appendFileSync(
      log,
      `Nov 27 02:00:0${i} web1 sshd[${4000 + i}]: Failed password for invalid user admin from 203.0.113.5 port ${40000 + i} ssh2\n`,
    );
  const bf = await until('Wazuh brute force', () => events.find((e) => e.ruleId === '5712'));
  assert.equal((bf.details as { level: number }).level, 10);
  assert.equal((bf.details as { fields: Record<string, string> }).fields.srcip, '203.0.113.5');
  await m.stop();
});

test('no source configured: the rules are checked, then no engine worker runs; adding a file starts it', async () => {
  const dir = join(root, 'nosource');
  mkdirSync(dir, { recursive: true });
  const events: ModuleEventInput[] = [];
  const idle: ModuleConfig = { enabled: true, mode: 'detect', settings: { pollIntervalMs: 50 } };
  const m = new LogInspectionModule();
  await m.start(context(idle, dir, events));
  try {
    assert.equal(m.status().state, 'running');
    assert.equal((m.status().details as { engine: string }).engine, 'stopped: no source configured');
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    await m.reconfigure({ ...idle, settings: { ...idle.settings, files: [{ path: log }] } });
    assert.equal((m.status().details as { engine: string }).engine, 'running');
    await until('first poll', () => (m.status().details as { filesFollowed?: number } | undefined)?.filesFollowed === 1);
    for (let i = 0; i < 8; i++) appendFileSync(log, failed(i));
    await until('brute-force alert', () => events.find((e) => e.ruleId === '200110'));
    // The source removed again: the worker is stopped again.
    await m.reconfigure(idle);
    assert.equal((m.status().details as { engine: string }).engine, 'stopped: no source configured');
  } finally {
    await m.stop();
  }
});
