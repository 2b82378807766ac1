import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '@palisade/diagnostics';
import { loadPolicy } from './load-policy.ts';

function errors(yaml: string): string[] {
  const r = loadPolicy(yaml, 'p.yaml');
  assert.equal(r.ok, false, 'the policy must be refused');
  return r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

test('a full policy loads with every field', () => {
  const r = loadPolicy(`
name: web
logRate: 3
failsafe: { manager: "[fd00::5]:4120", adminSources: [10.0.0.0/8], adminPorts: [22, 2200-2210] }
stateful: { conntrack: true, dropInvalid: true, antiEvasion: true, portScan: { threshold: 9, per: second, blockFor: 1h }, maxConnectionsPerSource: 10 }
lists: { ip: { a: [1.2.3.4] }, port: { p: [1, 2] }, mac: { m: [aa:bb:cc:dd:ee:ff] } }
schedules: { s: { days: [Mon], from: "01:00", to: "02:30" } }
blockList: [192.0.2.0/24]
rules:
  - name: r
    action: force-allow
    priority: 4
    direction: in
    frame: ipv4
    protocol: [tcp]
    tcpFlags: syn !ack
    srcIp: "@a"
    dstIp: { not: 10.0.0.1 }
    srcPort: "@p"
    dstPort: 80
    srcMac: "@m"
    interface: eth0
    schedule: s
    limit: 5/minute
    log: true
`);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const p = r.value;
  assert.equal(p.name, 'web');
  assert.equal(p.failsafe.manager?.port, 4120);
  assert.equal(p.failsafe.manager?.address.family, 6);
  assert.deepEqual(p.failsafe.adminPorts, [
    { start: 22, end: 22 },
    { start: 2200, end: 2210 },
  ]);
  assert.deepEqual(p.stateful.portScan, { threshold: 9, unit: 'second', blockSeconds: 3600 });
  const rule = p.rules[0]!;
  assert.equal(rule.srcIp?.list, 'a');
  assert.equal(rule.dstIp?.not, true);
  assert.deepEqual(rule.tcpFlags, { set: ['syn'], unset: ['ack'] });
  assert.deepEqual(rule.schedule, { name: 's', days: [1], start: 60, end: 150 });
  assert.deepEqual(rule.limit, { rate: 5, unit: 'minute' });
  assert.equal(rule.line, 10);
});

test('every problem is reported with its position, and the policy is refused as a whole', () => {
  const e = errors(`rules:
  - { name: ok, action: allow, protocol: tcp, dstPort: 80 }
  - { action: maybe }
  - { action: deny, priority: 7 }
  - { action: deny, srcIp: 10.0.0.300 }
  - { action: deny, protocol: tcp, dstPort: 70000 }
  - { action: deny, srcIp: "@nope" }
  - { action: deny, protocol: icmp, dstPort: 80 }
  - { action: deny, direction: out, srcMac: aa:bb:cc:dd:ee:ff }
  - { action: deny, protocol: udp, tcpFlags: syn }
  - { action: deny, frame: other }
  - { action: deny, colour: red }
  - { name: ok, action: deny }
`);
  assert.deepEqual(e, [
    'p.yaml:3:15: error FW_BAD_ACTION: unknown action "maybe" (allow, deny, force-allow, bypass, log-only)',
    'p.yaml:4:31: error FW_BAD_PRIORITY: priority must be 0, 1, 2, 3 or 4 (4 is the highest)',
    'p.yaml:5:28: error FW_BAD_ADDRESS: "10.0.0.300" is not an IPv4 or IPv6 address',
    'p.yaml:6:45: error FW_BAD_PORT: "70000" is not a port or port range (0-65535)',
    'p.yaml:7:28: error FW_UNKNOWN_LIST: no ip list named "nope"',
    'p.yaml:8:46: error FW_PORT_NEEDS_PROTOCOL: dstPort needs protocol tcp, udp or sctp (or no protocol, meaning tcp and udp)',
    'p.yaml:9:45: error FW_MAC_OUTBOUND: srcMac only exists on inbound frames',
    'p.yaml:10:46: error FW_BAD_TCP_FLAGS: tcpFlags needs protocol: tcp',
    'p.yaml:11:28: error FW_FRAME_UNSUPPORTED: frame "other" (non-IP, non-ARP) is not supported by the nftables backend yet',
    'p.yaml:12:21: error FW_UNKNOWN_KEY: unknown key "colour" in a rule',
    'p.yaml:13:13: error FW_DUPLICATE_RULE: two rules are named "ok"',
  ]);
});

test('YAML syntax errors carry their position', () => {
  const e = errors('rules:\n  - { name: a\n');
  assert.match(e[0]!, /^p\.yaml:\d+:\d+: error FW_YAML_SYNTAX: /);
});

test('list, schedule and address problems are reported where they are written', () => {
  const e = errors(`
lists:
  ip: { "bad-name": [1.2.3.4], ok: [1.2.3.4-1.2.3.1, "10.0.0.0/33", "1.2.3.4-fd00::1"] }
  mac: { m: [aa:bb] }
schedules:
  s: { days: [funday], from: "25:00", to: "8" }
failsafe: { manager: 10.0.0.1 }
stateful: { portScan: { threshold: 0 } }
rules:
  - { action: allow, schedule: nope, limit: fast }
`);
  assert.deepEqual(
    e.map((x) => x.replace(/: error (\w+):.*/, ' $1')),
    [
      'p.yaml:3:21 FW_BAD_LIST_NAME',
      'p.yaml:3:37 FW_BAD_ADDRESS',
      'p.yaml:3:54 FW_BAD_ADDRESS',
      'p.yaml:3:69 FW_BAD_ADDRESS',
      'p.yaml:4:14 FW_BAD_MAC',
      'p.yaml:6:15 FW_BAD_SCHEDULE',
      'p.yaml:6:30 FW_BAD_SCHEDULE',
      'p.yaml:6:43 FW_BAD_SCHEDULE',
      'p.yaml:7:22 FW_BAD_ADDRESS',
      'p.yaml:8:36 FW_SCHEMA',
      'p.yaml:10:32 FW_UNKNOWN_SCHEDULE',
      'p.yaml:10:45 FW_BAD_LIMIT',
    ],
  );
});

test('warnings do not refuse the policy', () => {
  const r = loadPolicy('stateful: { antiEvasion: true, conntrack: false }\n');
  assert.ok(r.ok);
  assert.deepEqual(r.diagnostics.map((d) => d.code).sort(), ['FW_EVASION_NEEDS_CONNTRACK', 'FW_NO_RULES']);
});

test('long lists can be written one entry per line in a block scalar', () => {
  const r = loadPolicy(
    'lists:\n  ip:\n    bad: |\n      10.0.0.1\n      # a comment\n      10.0.0.2, 10.0.1.0/24\n      nonsense\n',
    'p.yaml',
  );
  assert.equal(r.ok, false);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), [
    'p.yaml:7:1: error FW_BAD_ADDRESS: "nonsense" is not an IPv4 or IPv6 address',
  ]);
  const ok = loadPolicy('lists:\n  ip:\n    bad: |\n      10.0.0.1\n      10.0.0.2 10.0.1.0/24\n');
  assert.ok(ok.ok);
  assert.equal(ok.value.lists.ip.bad?.length, 3);
});

test('JSON policies take the fast path and still get positioned diagnostics', () => {
  const json = JSON.stringify({ lists: { ip: { bad: ['10.0.0.1'] } }, rules: [{ name: 'x', action: 'deny', srcIp: '@bad' }] });
  const ok = loadPolicy(json, 'p.json');
  assert.ok(ok.ok);
  assert.equal(ok.value.rules[0]!.srcIp?.list, 'bad');
  const bad = loadPolicy('{\n  "rules": [\n    { "action": "nope" }\n  ]\n}\n', 'p.json');
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.diagnostics.map(formatDiagnostic), [
    'p.json:3:17: error FW_BAD_ACTION: unknown action "nope" (allow, deny, force-allow, bypass, log-only)',
  ]);
});
