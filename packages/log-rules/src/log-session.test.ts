import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LogRuleset, loadLogRuleset } from './log-ruleset.ts';
import { LogSession } from './log-session.ts';

const DECODERS = `
<decoder name="sshd">
  <program_name>^sshd</program_name>
</decoder>
<decoder name="sshd-fail">
  <parent>sshd</parent>
  <prematch>^Failed password </prematch>
  <regex offset="after_prematch">^for (\\S+) from (\\S+) port (\\d+)</regex>
  <order>user, srcip, srcport</order>
</decoder>
<decoder name="json">
  <prematch>^{\\s*"</prematch>
  <plugin_decoder>JSON_Decoder</plugin_decoder>
</decoder>
`;

const RULES = `
<group name="syslog,">
  <rule id="1" level="0" noalert="1"><category>syslog</category><description>template</description></rule>
</group>
<group name="syslog,errors,">
  <rule id="1002" level="2"><match>failed|denied</match><description>generic error</description></rule>
</group>
<group name="sshd,">
  <rule id="100" level="0"><decoded_as>sshd</decoded_as><description>sshd grouping</description></rule>
  <rule id="101" level="5"><if_sid>100</if_sid><match>^Failed password</match>
    <description>ssh failure</description><group>authentication_failed,</group></rule>
  <rule id="102" level="10" frequency="4" timeframe="60">
    <if_matched_sid>101</if_matched_sid><same_source_ip />
    <description>ssh brute force</description></rule>
  <rule id="103" level="3"><if_sid>101</if_sid><srcip>10.0.0.0/8</srcip><user>root</user>
    <description>internal root failure</description></rule>
</group>
<group name="app,">
  <rule id="200" level="0"><decoded_as>json</decoded_as><field name="app">demo</field><description>demo app</description></rule>
  <rule id="201" level="7"><if_sid>200</if_sid><field name="Event.Outcome">denied</field><description>denied</description></rule>
  <rule id="202" level="4"><if_sid>200</if_sid><list field="user" lookup="match_key">etc/lists/admins</list><description>admin</description></rule>
</group>
`;

function load(): LogRuleset {
  const r = loadLogRuleset({
    decoders: [{ path: 'd.xml', text: DECODERS }],
    rules: [{ path: 'r.xml', text: RULES }],
    lists: [{ path: 'etc/lists/admins', text: 'alice:\nbob:ops\n' }],
  });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.value;
}

const fail = (ip: string, user = 'bob') => `Oct 10 10:00:00 host sshd[1]: Failed password for ${user} from ${ip} port 22 ssh2`;

test('decodes the syslog header, the parent/child decoder and its fields', () => {
  const s = new LogSession(load());
  const r = s.process(fail('1.2.3.4'), { time: 0 });
  assert.equal(r.event.programName, 'sshd');
  assert.equal(r.event.decoder, 'sshd');
  assert.deepEqual(r.event.fields, { dstuser: 'bob', srcip: '1.2.3.4', srcport: '22' });
  assert.equal(r.rule?.id, 101);
  assert.equal(r.alert, true);
});

test('level-0 grouping rules are tried before higher-level siblings', () => {
  // 1002 (level 2) would match "Failed" too, but analysisd tries the level-0 rule 100 first.
  const r = new LogSession(load()).process(fail('1.2.3.4'), { time: 0 });
  assert.equal(r.rule?.id, 101);
});

test('frequency correlation counts earlier events from the same source inside the window', () => {
  const s = new LogSession(load());
  const ids = [0, 1, 2, 3].map((t) => s.process(fail('5.5.5.5'), { time: t }).rule?.id);
  assert.deepEqual(ids, [101, 101, 101, 102]);
  const other = new LogSession(load());
  for (let t = 0; t < 3; t++) other.process(fail('5.5.5.5'), { time: t });
  assert.equal(other.process(fail('6.6.6.6'), { time: 3 }).rule?.id, 101, 'another source does not count');
  const late = new LogSession(load());
  for (let t = 0; t < 3; t++) late.process(fail('5.5.5.5'), { time: t * 100 });
  assert.equal(late.process(fail('5.5.5.5'), { time: 300 }).rule?.id, 101, 'events outside the timeframe do not count');
});

test('children: CIDR and user checks', () => {
  const r = new LogSession(load()).process(fail('10.1.2.3', 'root'), { time: 0 });
  assert.equal(r.rule?.id, 103);
});

test('JSON events: dotted fields, case-insensitive field names, CDB lists', () => {
  const s = new LogSession(load());
  assert.equal(s.process('{"app":"demo","event":{"outcome":"denied"}}').rule?.id, 201);
  assert.equal(s.process('{"app":"demo","user":"alice"}').rule?.id, 202);
  assert.equal(s.process('{"app":"demo","user":"mallory"}').rule?.id, 200);
});

test('a line nothing matches has no rule and no alert', () => {
  const r = new LogSession(load()).process('hello world');
  assert.equal(r.rule, undefined);
  assert.equal(r.event.decoder, undefined);
  assert.equal(r.alert, false);
});

test('bad input is refused as a whole, with file and line', () => {
  const r = loadLogRuleset({
    decoders: [{ path: 'd.xml', text: DECODERS }],
    rules: [
      { path: 'ok.xml', text: RULES },
      { path: 'bad.xml', text: '<group name="x,">\n<rule id="900" level="3">\n  <regex>(unclosed</regex>\n</rule>\n</group>' },
    ],
  });
  assert.equal(r.ok, false);
  const d = r.diagnostics.find((x) => x.severity === 'error');
  assert.equal(d?.code, 'LOGRULES_BAD_PATTERN');
  assert.equal(d?.file, 'bad.xml');
  assert.equal(d?.line, 3);
});

test('rule levels map onto Palisade severities', async () => {
  const { severityOfLevel } = await import('./severity-of-level.ts');
  assert.deepEqual([0, 3, 6, 10, 13, 16].map(severityOfLevel), ['info', 'low', 'medium', 'high', 'critical', 'critical']);
});

test('a pathological pattern in a rule cannot stall the session', () => {
  const r = loadLogRuleset({
    decoders: [{ path: 'd.xml', text: DECODERS }],
    rules: [
      {
        path: 'r.xml',
        text: `${RULES}<group name="x,"><rule id="900" level="5"><regex type="pcre2">^(a|aa)+$</regex><description>evil</description></rule>
          <rule id="901" level="5"><regex type="pcre2">^(\\w+\\s?)*$</regex><description>evil too</description></rule></group>`,
      },
    ],
  });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const s = new LogSession(r.value);
  const started = performance.now();
  s.process(`${'a'.repeat(40000)}!`);
  s.process(`${'word '.repeat(8000)}!`);
  assert.ok(performance.now() - started < 2000, 'matching must stay linear');
});

test('check_diff: the first output is stored, an unchanged one is quiet, a changed one matches with the previous output', () => {
  const loaded = loadLogRuleset({
    decoders: [{ path: 'd.xml', text: '<decoder name="ossec"><prematch>^ossec: </prematch><type>ossec</type></decoder>' }],
    rules: [
      {
        path: 'r.xml',
        text: `<group name="ossec,">
  <rule id="3" level="0" noalert="1"><category>ossec</category><description>template</description></rule>
  <rule id="530" level="0"><category>ossec</category><decoded_as>ossec</decoded_as><match>^ossec: output: </match><description>output</description></rule>
  <rule id="533" level="7"><if_sid>530</if_sid><match>ossec: output: 'ports'</match><check_diff /><description>ports changed</description></rule>
</group>`,
      },
    ],
  });
  assert.ok(loaded.ok);
  const s = new LogSession(loaded.value);
  const run = (out: string) => s.process(`ossec: output: 'ports':\n${out}`, { logFormat: 'raw' });
  assert.equal(run('tcp :22').rule?.id, 530);
  assert.equal(run('tcp :22').rule?.id, 530);
  const changed = run('tcp :22\ntcp :8080');
  assert.equal(changed.rule?.id, 533);
  assert.ok(changed.alert);
  assert.equal(changed.event.previousOutput, "ossec: output: 'ports':\ntcp :22");
  assert.equal(JSON.parse(JSON.stringify(changed.event)).previousOutput, "ossec: output: 'ports':\ntcp :22");
  assert.equal(run('tcp :22\ntcp :8080').rule?.id, 530);
});
