import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../../agent-module.ts';
import { LogInspectionModule } from './log-inspection-module.ts';

/**
 * Every source type and per-source format through the whole module, with real files and real
 * processes in a temporary directory and a small ruleset written here (so each alert proves one
 * thing: a rule that needs two lines only fires when they were joined).
 */
const root = mkdtempSync(join(tmpdir(), 'palisade-logsrc-'));
after(() => rmSync(root, { recursive: true, force: true }));

const DECODERS = `
<decoder name="ossec"><prematch>^ossec: </prematch><type>ossec</type></decoder>
<decoder name="json"><prematch>^{\\s*"</prematch><plugin_decoder>JSON_Decoder</plugin_decoder></decoder>
<decoder name="app"><program_name>^app$</program_name></decoder>
<decoder name="access"><prematch>^\\d+.\\d+.\\d+.\\d+ - </prematch><type>web-log</type></decoder>
<decoder name="access-fields"><parent>access</parent><regex>^(\\S+) \\S+ \\S+ [\\S+ \\S+] "\\w+ (\\S+) HTTP\\S+" (\\d+) </regex><order>srcip,url,id</order></decoder>
`;

const RULES = `
<group name="test,">
<rule id="1" level="0" noalert="1"><category>syslog</category><description>syslog</description></rule>
<rule id="2" level="0" noalert="1"><category>web-log</category><description>web</description></rule>
<rule id="3" level="0" noalert="1"><category>ossec</category><description>ossec</description></rule>
<rule id="299200" level="5"><program_name>^app$</program_name><match>boom</match><description>app said boom</description></rule>
<rule id="299201" level="5"><match>^Nov 27 02:00:00 web1 app: boom</match><description>whole line seen</description></rule>
<rule id="299202" level="6"><category>web-log</category><decoded_as>access</decoded_as><url>/wp-login.php</url><description>probe from $(srcip)</description></rule>
<rule id="299203" level="5"><decoded_as>json</decoded_as><field name="event">^login_failed$</field><description>login failed for $(user)</description></rule>
<rule id="299204" level="7"><match>type=SYSCALL</match><regex>name="/etc/shadow"</regex><description>shadow touched</description></rule>
<rule id="299205" level="7"><match>IllegalStateException</match><regex>at com.example.Worker.run</regex><description>java crash</description></rule>
<rule id="299206" level="4"><match>part-one part-two part-three</match><description>three lines joined</description></rule>
<rule id="299207" level="0"><category>ossec</category><decoded_as>ossec</decoded_as><match>^ossec: output: </match><description>command output</description></rule>
<rule id="299208" level="7"><if_sid>299207</if_sid><match>ossec: output: 'ports':</match><check_diff /><description>listening ports changed</description></rule>
<rule id="299209" level="4"><if_sid>299207</if_sid><match>ossec: output: 'items': item-</match><description>an item</description></rule>
</group>
`;

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

async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function setup(name: string): { dir: string; rules: string; data: string } {
  const dir = join(root, name);
  const rules = join(dir, 'rules');
  const data = join(dir, 'data');
  mkdirSync(rules, { recursive: true });
  mkdirSync(data, { recursive: true });
  writeFileSync(join(rules, 'test-decoders.xml'), DECODERS);
  writeFileSync(join(rules, 'test-rules.xml'), RULES);
  return { dir, rules, data };
}

const details = (e: ModuleEventInput): Record<string, unknown> => e.details as Record<string, unknown>;

test('per-source formats: syslog, nginx, apache, json, audit, multi-line regex and multi-line N, each from its own file', async () => {
  const { dir, rules, data } = setup('formats');
  const f = (n: string): string => join(dir, n);
  const appLine = 'Nov 27 02:00:00 web1 app: boom\n';
  writeFileSync(f('sys.log'), appLine);
  // The same text in a file declared as an access log: no syslog header is taken off.
  writeFileSync(f('access.log'), `${appLine}203.0.113.7 - - [27/Nov/2026:02:00:00 +0000] "GET /wp-login.php HTTP/1.1" 404 12 "-" "x"\n`);
  writeFileSync(f('apache.log'), appLine);
  writeFileSync(f('app.json'), '{"app":"pay","event":"login_failed","user":"bob"}\n');
  writeFileSync(
    f('audit.log'),
    [
      'type=SYSCALL msg=audit(1700000000.100:42): arch=c000003e syscall=257 success=yes exe="/usr/bin/vi" key="shadow"',
      'type=PATH msg=audit(1700000000.100:42): item=0 name="/etc/shadow" inode=1',
      'type=SYSCALL msg=audit(1700000001.100:43): arch=c000003e syscall=257 success=yes exe="/usr/bin/cat" key="x"',
      'type=PATH msg=audit(1700000001.100:44): item=0 name="/etc/shadow" inode=1',
      '',
    ].join('\n'),
  );
  writeFileSync(
    f('java.log'),
    [
      '2026-11-27 02:00:00 INFO worker started',
      '2026-11-27 02:00:01 ERROR worker failed',
      'java.lang.IllegalStateException: queue closed',
      '\tat com.example.Queue.take(Queue.java:42)',
      '\tat com.example.Worker.run(Worker.java:17)',
      '',
    ].join('\n'),
  );
  writeFileSync(f('three.log'), 'part-one\npart-two\npart-three\npart-one\n');
  const config: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: {
      files: [
        { path: f('sys.log'), format: 'syslog' },
        { path: f('access.log'), format: 'nginx' },
        { path: f('apache.log'), format: 'apache' },
        { path: f('app.json'), format: 'json' },
        { path: f('audit.log'), format: 'audit' },
        { path: f('java.log'), format: 'raw', multiline: { start: '^\\d{4}-\\d\\d-\\d\\d ', timeoutMs: 300 } },
        { path: f('three.log'), multiline: { lines: 3 } },
      ],
      rules: { bundled: false, dirs: [rules] },
      startAt: 'beginning',
      pollIntervalMs: 50,
    },
  };
  const m = new LogInspectionModule();
  assert.deepEqual(m.configure(config), []);
  const events: ModuleEventInput[] = [];
  await m.start(context(config, data, events));
  try {
    const by = (id: string): ModuleEventInput[] => events.filter((e) => e.ruleId === id);
    // The stack trace is complete only once its timeout passed without a new line.
    await until('the java stack trace', () => by('299205').length > 0);
    await until(
      'the other formats',
      () => ['299200', '299202', '299203', '299204', '299206'].every((id) => by(id).length) && by('299201').length === 2,
    );

    // syslog: header pre-decoded, program name known; nginx: the whole line reaches the rules.
    assert.equal(by('299200').length, 1);
    assert.equal(details(by('299200')[0]!).location, f('sys.log'));
    assert.deepEqual(
      by('299201')
        .map((e) => details(e).location)
        .sort(),
      [f('access.log'), f('apache.log')],
    );
    assert.equal(details(by('299202')[0]!).decoder, 'access');
    assert.match(by('299202')[0]!.message, /probe from 203\.0\.113\.7/);
    assert.equal((details(by('299203')[0]!).fields as Record<string, string>).user, 'bob');
    // audit: the SYSCALL and PATH lines of event 42 are one event; 43 and 44 stay apart.
    assert.equal(by('299204').length, 1);
    assert.match(String(details(by('299204')[0]!).fullLog), /:42\): arch=.* type=PATH msg=audit\(1700000000\.100:42\)/);
    // multi-line regex: the record starting at the ERROR line holds the exception and both frames.
    const java = details(by('299205')[0]!);
    assert.equal(
      java.fullLog,
      [
        '2026-11-27 02:00:01 ERROR worker failed',
        'java.lang.IllegalStateException: queue closed',
        '\tat com.example.Queue.take(Queue.java:42)',
        '\tat com.example.Worker.run(Worker.java:17)',
      ].join('\n'),
    );
    // multi-line N: three lines joined with spaces; the fourth waits for its two companions.
    assert.equal(by('299206').length, 1);
    assert.equal(details(by('299206')[0]!).fullLog, 'part-one part-two part-three');
    appendFileSync(f('three.log'), 'part-two\npart-three\n');
    await until('the second group of three', () => by('299206').length === 2);
  } finally {
    await m.stop();
  }
});

test('a multi-line record unfinished at stop is read again on the next start, and reported once', async () => {
  const { dir, rules, data } = setup('pending');
  const log = join(dir, 'java.log');
  writeFileSync(log, '');
  const config: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: {
      files: [{ path: log, format: 'raw', multiline: { start: '^\\d{4}-\\d\\d-\\d\\d ', timeoutMs: 600_000 } }],
      rules: { bundled: false, dirs: [rules] },
      pollIntervalMs: 50,
    },
  };
  const events: ModuleEventInput[] = [];
  const m = new LogInspectionModule();
  await m.start(context(config, data, events));
  await until('first poll', () => (m.status().details as { filesFollowed?: number } | undefined)?.filesFollowed === 1);
  appendFileSync(log, '2026-11-27 02:00:01 ERROR worker failed\njava.lang.IllegalStateException: queue closed\n');
  // Give the module a few rounds to read (and hold) the unfinished record.
  await new Promise((r) => setTimeout(r, 500));
  await m.stop();
  assert.equal(events.length, 0);

  appendFileSync(log, '\tat com.example.Worker.run(Worker.java:17)\n2026-11-27 02:00:02 INFO restarted\n');
  const events2: ModuleEventInput[] = [];
  const m2 = new LogInspectionModule();
  await m2.start(context(config, data, events2));
  try {
    const crash = await until('the crash after the restart', () => events2.find((e) => e.ruleId === '299205'));
    assert.match(String(details(crash).fullLog), /^2026-11-27 02:00:01 ERROR worker failed\njava\.lang\.IllegalStateException/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(events2.filter((e) => e.ruleId === '299205').length, 1);
  } finally {
    await m2.stop();
  }
});

test('command sources: full output with check_diff (previous output reported) and one event per line', async () => {
  const { dir, rules, data } = setup('commands');
  const counter = join(dir, 'runs');
  writeFileSync(counter, '0');
  // A stand-in for `netstat -tln`: a second listening port shows up from the second run on.
  const ports = `const fs=require('fs');const n=Number(fs.readFileSync(${JSON.stringify(counter)},'utf8'))+1;fs.writeFileSync(${JSON.stringify(counter)},String(n));console.log('tcp 0.0.0.0:22 LISTEN');if(n>1)console.log('tcp 0.0.0.0:8080 LISTEN');`;
  const config: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: {
      commands: [
        { command: [process.execPath, '-e', ports], alias: 'ports', intervalSeconds: 1 },
        { command: [process.execPath, '-e', "console.log('item-1\\nitem-2')"], alias: 'items', output: 'lines', intervalSeconds: 3600 },
      ],
      rules: { bundled: false, dirs: [rules] },
      pollIntervalMs: 50,
    },
  };
  const m = new LogInspectionModule();
  assert.deepEqual(m.configure(config), []);
  const events: ModuleEventInput[] = [];
  await m.start(context(config, data, events));
  try {
    const changed = await until('the ports change', () => events.find((e) => e.ruleId === '299208'));
    const d = details(changed);
    assert.equal(d.location, 'command_ports');
    assert.equal(d.source, 'command');
    assert.equal(d.command, 'ports');
    assert.equal(d.fullLog, "ossec: output: 'ports':\ntcp 0.0.0.0:22 LISTEN\ntcp 0.0.0.0:8080 LISTEN");
    assert.equal(d.previousOutput, "ossec: output: 'ports':\ntcp 0.0.0.0:22 LISTEN");
    const items = await until('both item lines', () => {
      const xs = events.filter((e) => e.ruleId === '299209');
      return xs.length >= 2 && xs;
    });
    assert.deepEqual(
      items.map((e) => details(e).fullLog),
      ["ossec: output: 'items': item-1", "ossec: output: 'items': item-2"],
    );
    assert.equal(details(items[0]!).location, 'command_items');
    // Later runs with the same output are no change.
    const runs = (): number => (m.status().details as { commands: { alias: string; runs: number }[] }).commands[0]!.runs;
    const seen = runs();
    await until('two more runs', () => runs() >= seen + 2);
    assert.equal(events.filter((e) => e.ruleId === '299208').length, 1);
  } finally {
    await m.stop();
  }
});

test('command and multi-line settings are checked before anything runs', () => {
  const m = new LogInspectionModule();
  const cfg = (settings: Record<string, unknown>): ModuleConfig => ({ enabled: true, mode: 'detect', settings });
  const code = (settings: Record<string, unknown>): string | undefined => m.configure(cfg(settings))[0]?.code;
  assert.equal(code({ commands: [{ command: ['netstat', '-tln'] }] }), 'LOGINSP_SETTINGS_INVALID');
  assert.equal(code({ commands: [{ command: [] }] }), 'LOGINSP_SETTINGS_INVALID');
  assert.equal(code({ commands: [{ command: ['/bin/true'], alias: "it's" }] }), 'LOGINSP_SETTINGS_INVALID');
  assert.equal(code({ commands: [{ command: ['/bin/true'] }, { command: ['/bin/true'] }] }), 'LOGINSP_SETTINGS_INVALID');
  assert.equal(code({ files: [{ path: '/x', multiline: { start: '(' } }] }), 'LOGINSP_SETTINGS_INVALID');
  assert.equal(code({ files: [{ path: '/x', format: 'audit', multiline: { lines: 2 } }] }), 'LOGINSP_SETTINGS_INVALID');
  assert.equal(code({ files: [{ path: '/x', multiline: { lines: 1 } }] }), 'LOGINSP_SETTINGS_INVALID');
  assert.deepEqual(m.configure(cfg({ commands: [{ command: ['/usr/bin/netstat', '-tln'], alias: 'netstat listening ports' }] })), []);
  assert.deepEqual(m.configure(cfg({ files: [{ path: '/x', format: 'apache', multiline: { start: '^\\S', join: 'wspace' } }] })), []);
});

const SHARED = process.env.PALISADE_SHARED ?? fileURLToPath(new URL('../../../../../../shared', import.meta.url));
const WAZUH = join(SHARED, 'wazuh-ruleset');

test('with the Wazuh ruleset: a listening port that appears between two runs fires Wazuh 533 (check_diff)', async (t) => {
  if (!existsSync(join(WAZUH, 'ruleset', 'rules'))) return t.skip(`no Wazuh ruleset in ${WAZUH}`);
  const dir = join(root, 'wazuh-533');
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const counter = join(dir, 'runs');
  writeFileSync(counter, '0');
  const netstat = `const fs=require('fs');const n=Number(fs.readFileSync(${JSON.stringify(counter)},'utf8'))+1;fs.writeFileSync(${JSON.stringify(counter)},String(n));console.log('tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN');if(n>1)console.log('tcp        0      0 0.0.0.0:4444            0.0.0.0:*               LISTEN');`;
  const config: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: {
      commands: [{ command: [process.execPath, '-e', netstat], alias: 'netstat listening ports', intervalSeconds: 1 }],
      rules: { wazuhRuleset: WAZUH },
      pollIntervalMs: 50,
    },
  };
  const events: ModuleEventInput[] = [];
  const m = new LogInspectionModule();
  await m.start(context(config, data, events));
  try {
    const alert = await until('Wazuh 533', () => events.find((e) => e.ruleId === '533'), 60_000);
    const d = details(alert);
    assert.equal(d.level, 7);
    assert.equal(d.decoder, 'ossec');
    assert.match(String(d.fullLog), /0\.0\.0\.0:4444/);
    assert.doesNotMatch(String(d.previousOutput), /4444/);
  } finally {
    await m.stop();
  }
});
