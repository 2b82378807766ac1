import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileRuleset } from './compile-ruleset.ts';
import { emptyPolicy } from './firewall-policy.ts';
import { loadPolicy } from './load-policy.ts';

// Golden output per feature: fixtures/compile/<feature>/input.yaml -> expected.nft. The same files
// are loaded by nft in compile-ruleset.integration.test.ts, so a golden is also a valid ruleset.
// PALISADE_UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
const fixtures = fileURLToPath(new URL('../fixtures/compile/', import.meta.url));

for (const name of readdirSync(fixtures).sort()) {
  test(`golden: ${name}`, () => {
    const dir = join(fixtures, name);
    const loaded = loadPolicy(readFileSync(join(dir, 'input.yaml'), 'utf8'), `${name}/input.yaml`);
    assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
    const compiled = compileRuleset(loaded.value);
    assert.ok(compiled.ok, JSON.stringify(compiled.diagnostics));
    const expectedFile = join(dir, 'expected.nft');
    if (process.env.PALISADE_UPDATE_GOLDEN === '1') writeFileSync(expectedFile, compiled.value.text);
    assert.equal(compiled.value.text, readFileSync(expectedFile, 'utf8'));
  });
}

test('only the Palisade tables are named, and they are replaced in one transaction', () => {
  const c = compileRuleset(emptyPolicy());
  assert.ok(c.ok);
  const tables = [...c.value.text.matchAll(/^(?:delete )?table (\S+ \S+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(tables)], ['inet palisade', 'arp palisade']);
  assert.match(c.value.text, /^table inet palisade\ndelete table inet palisade\n/m);
});

test('100,000 list addresses become one set and one rule', () => {
  const ips: string[] = [];
  for (let i = 0; i < 100_000; i++) ips.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  // every other address: no two adjacent, so nothing merges
  const list = ips.filter((_, i) => i % 2 === 0).concat(ips.map((ip) => ip.replace(/^10\./, '11.')).filter((_, i) => i % 2 === 0));
  const yaml = `lists:\n  ip:\n    bad: [${list.join(', ')}]\nrules:\n  - { name: bad, action: deny, srcIp: "@bad" }\n`;
  const loaded = loadPolicy(yaml);
  assert.ok(loaded.ok);
  const c = compileRuleset(loaded.value);
  assert.ok(c.ok);
  assert.equal(c.value.sets.ip_bad_v4, 100_000);
  assert.equal(c.value.text.match(/@ip_bad_v4/g)?.length, 1);
  assert.doesNotMatch(c.value.text, /set ip_bad_v4 \{\n\t\ttype ipv4_addr\n\t\tflags interval/, 'single addresses need no interval set');
});

test('a policy that would cut the manager off is refused when the failsafe is off', () => {
  const yaml = `
failsafe: { enabled: false, manager: 10.20.0.5:4120 }
rules:
  - { name: ssh, action: allow, protocol: tcp, dstPort: 22 }
  - { name: out-dns, action: allow, direction: out, protocol: udp, dstPort: 53 }
`;
  const loaded = loadPolicy(yaml);
  assert.ok(loaded.ok);
  const c = compileRuleset(loaded.value);
  assert.equal(c.ok, false);
  assert.equal(c.diagnostics[0]?.code, 'FW_MANAGER_CUT_OFF');
  assert.match(c.diagnostics[0]!.message, /implicit deny/);

  // The same rules with the failsafe on compile: the manager rule comes before everything.
  loaded.value.failsafe.enabled = true;
  const ok = compileRuleset(loaded.value);
  assert.ok(ok.ok);
  const out = ok.value.text.split('chain output')[1]!;
  assert.ok(out.indexOf('failsafe: manager') < out.indexOf('out-dns'));

  // A deny rule that names the manager is reported by name.
  const deny = loadPolicy(`
failsafe: { enabled: false, manager: 10.20.0.5:4120 }
rules: [{ name: no-mgmt-net, action: deny, direction: out, dstIp: 10.20.0.0/16 }]
`);
  assert.ok(deny.ok);
  const refused = compileRuleset(deny.value);
  assert.equal(refused.ok, false);
  assert.match(refused.diagnostics[0]!.message, /"no-mgmt-net"/);
  assert.equal(refused.diagnostics[0]!.line, 3);

  // The agent's own knowledge of its manager overrides the document's.
  const p2 = loadPolicy('failsafe: { enabled: false }\nrules: [{ name: x, action: allow, direction: out, protocol: tcp, dstPort: 22 }]\n');
  assert.ok(p2.ok);
  const byOption = compileRuleset(p2.value, {
    failsafe: { manager: { address: { family: 4, start: 0x0a140005n, end: 0x0a140005n }, port: 4120 } },
  });
  assert.equal(byOption.ok, false);
});

test('no manager known is a warning, not an error', () => {
  const c = compileRuleset(emptyPolicy());
  assert.ok(c.ok);
  assert.deepEqual(
    c.diagnostics.map((d) => d.code),
    ['FW_NO_MANAGER'],
  );
});

test('many rules of one shape and verdict share one concatenated set', () => {
  const rules = Array.from(
    { length: 40 },
    (_, i) => `  - { name: d${i}, action: deny, protocol: tcp, srcIp: 10.${i}.0.0/16, dstPort: ${1000 + i} }`,
  );
  const yaml = `rules:\n${rules.join('\n')}\n  - { name: ssh, action: allow, protocol: tcp, dstPort: 22 }\n`;
  const loaded = loadPolicy(yaml);
  assert.ok(loaded.ok);
  const grouped = compileRuleset(loaded.value);
  assert.ok(grouped.ok);
  assert.match(grouped.value.text, /ip saddr \. tcp dport @grp_input_1 counter drop comment "group of 40: d0 d1/);
  assert.equal(grouped.value.sets.grp_input_1, 40);
  assert.match(grouped.value.text, /elements = \{ 10\.0\.0\.0\/16 \. 1000, 10\.1\.0\.0\/16 \. 1001/);
  // the allow rule has another verdict: not in the group, still after it
  assert.match(grouped.value.text, /@grp_input_1[^\n]*\n\t\ttcp dport 22 counter accept/);
  const single = compileRuleset(loaded.value, { groupMinRules: 0 });
  assert.ok(single.ok);
  assert.equal(single.value.ruleCount - grouped.value.ruleCount, 39);
});

test('groups never cross a rule of another verdict or a log-only rule, and overlaps stay single', () => {
  const mk = (i: number, action: string, extra = '') =>
    `  - { name: r${i}, action: ${action}, protocol: tcp, dstPort: ${2000 + i}${extra} }`;
  const rules = [
    ...Array.from({ length: 20 }, (_, i) => mk(i, 'deny')),
    '  - { name: watch, action: log-only, protocol: tcp }',
    ...Array.from({ length: 20 }, (_, i) => mk(100 + i, 'deny', ', priority: 1')),
  ];
  // log-only at priority 2 sits between the first 20 (priority 2, deny wins) and the priority-1 ones
  const loaded = loadPolicy(`rules:\n${rules.join('\n')}\n`);
  assert.ok(loaded.ok);
  const c = compileRuleset(loaded.value);
  assert.ok(c.ok);
  const input = c.value.text.split('chain input')[1]!;
  const at = (s: string) => input.indexOf(s);
  assert.ok(at('group of 20: r0 ') < at('"watch"') && at('"watch"') < at('group of 20: r100 '));

  const overlapping = loadPolicy(
    `rules:\n${Array.from({ length: 20 }, (_, i) => `  - { name: o${i}, action: deny, protocol: tcp, dstPort: ${3000 + i}-${3010 + i} }`).join('\n')}\n`,
  );
  assert.ok(overlapping.ok);
  const o = compileRuleset(overlapping.value);
  assert.ok(o.ok);
  assert.doesNotMatch(o.value.text, /grp_/);
  assert.match(o.value.text, /tcp dport 3019-3029 counter drop comment "o19"/);
});
