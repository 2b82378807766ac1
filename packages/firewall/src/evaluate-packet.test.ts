import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAddressRange } from './address-range.ts';
import { evaluateManagerReach, evaluatePacket, type Packet, simulateConnection } from './evaluate-packet.ts';
import type { FirewallPolicy } from './firewall-policy.ts';
import { loadPolicy } from './load-policy.ts';

function policy(yaml: string): FirewallPolicy {
  const r = loadPolicy(yaml);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.value;
}

const tcpIn = (src: string, dport: number, extra: Partial<Packet> = {}): Packet => ({
  direction: 'in',
  frame: src.includes(':') ? 'ipv6' : 'ipv4',
  src,
  dst: src.includes(':') ? 'fd00::1' : '10.0.0.1',
  protocol: 6,
  srcPort: 40000,
  dstPort: dport,
  tcpFlags: ['syn'],
  ...extra,
});

describe('precedence', () => {
  // Every pair of actions at equal priority, and a higher priority beating a stronger action.
  const actions = ['log-only', 'allow', 'deny', 'force-allow', 'bypass'] as const;
  for (let i = 0; i < actions.length; i++) {
    for (let j = i + 1; j < actions.length; j++) {
      const weak = actions[i]!;
      const strong = actions[j]!;
      test(`${strong} beats ${weak} at equal priority, loses to ${weak} one priority higher`, () => {
        const verdictOf = (a: string) => (a === 'deny' ? 'drop' : 'accept');
        const same = policy(
          `rules:\n  - { name: w, action: ${weak}, protocol: tcp, dstPort: 80 }\n  - { name: s, action: ${strong}, protocol: tcp, dstPort: 80 }\n`,
        );
        const v = evaluatePacket(same, tcpIn('10.9.9.9', 80));
        assert.equal(v.rule, strong === 'log-only' ? undefined : 's');
        assert.equal(v.verdict, verdictOf(strong));
        if (weak === 'log-only') return; // log-only never decides, whatever its priority
        const higher = policy(
          `rules:\n  - { name: w, action: ${weak}, priority: 3, protocol: tcp, dstPort: 80 }\n  - { name: s, action: ${strong}, priority: 2, protocol: tcp, dstPort: 80 }\n`,
        );
        const v2 = evaluatePacket(higher, tcpIn('10.9.9.9', 80));
        assert.equal(v2.rule, 'w');
        assert.equal(v2.verdict, verdictOf(weak));
      });
    }
  }

  test('log-only logs and lets the decision fall through', () => {
    const p = policy('rules:\n  - { name: l, action: log-only, priority: 4 }\n  - { name: d, action: deny, priority: 0, protocol: tcp }\n');
    const v = evaluatePacket(p, tcpIn('10.9.9.9', 80));
    assert.deepEqual([v.verdict, v.rule, v.logged], ['drop', 'd', ['l']]);
  });
});

describe('allow rules make an allow-list per direction and frame', () => {
  const p = policy('rules:\n  - { name: web, action: allow, frame: ipv4, protocol: tcp, dstPort: 443 }\n');
  test('inbound IPv4 not allowed is denied', () => {
    assert.equal(evaluatePacket(p, tcpIn('10.9.9.9', 443)).verdict, 'accept');
    const v = evaluatePacket(p, tcpIn('10.9.9.9', 22));
    assert.deepEqual([v.verdict, v.reason], ['drop', 'implicit-deny']);
  });
  test('IPv6, outbound and ARP are other kinds', () => {
    assert.equal(evaluatePacket(p, tcpIn('fd00::9', 22)).verdict, 'accept');
    assert.equal(evaluatePacket(p, { ...tcpIn('10.9.9.9', 22), direction: 'out' }).verdict, 'accept');
    assert.equal(evaluatePacket(p, { direction: 'in', frame: 'arp', src: '10.9.9.9' }).verdict, 'accept');
  });
  test('an ARP allow-list denies other ARP', () => {
    const arp = policy('rules:\n  - { name: a, action: allow, frame: arp, srcIp: 10.0.0.0/24 }\n');
    assert.equal(evaluatePacket(arp, { direction: 'in', frame: 'arp', src: '10.0.0.7' }).verdict, 'accept');
    assert.equal(evaluatePacket(arp, { direction: 'in', frame: 'arp', src: '10.0.1.7' }).verdict, 'drop');
  });
  test('IPv6 neighbour discovery survives an IPv6 allow-list', () => {
    const v6 = policy('rules:\n  - { name: web, action: allow, protocol: tcp, dstPort: 443 }\n');
    const ns: Packet = { direction: 'in', frame: 'ipv6', src: 'fe80::1', dst: 'fe80::2', protocol: 58, icmpType: 135 };
    assert.equal(evaluatePacket(v6, ns).reason, 'neighbour-discovery');
    assert.equal(evaluatePacket(v6, { ...ns, icmpType: 128 }).verdict, 'drop');
  });
});

describe('fields', () => {
  test('addresses: single, CIDR, range, list, negation, family', () => {
    const p = policy(`
lists: { ip: { l: [10.1.0.0/16, "fd00::/8"] } }
rules:
  - { name: one, action: deny, srcIp: 192.0.2.1 }
  - { name: range, action: deny, srcIp: 192.0.2.10-192.0.2.20 }
  - { name: notlist, action: deny, protocol: tcp, dstPort: 5432, srcIp: { not: "@l" } }
`);
    const d = (src: string, port = 80) => evaluatePacket(p, tcpIn(src, port)).verdict;
    assert.equal(d('192.0.2.1'), 'drop');
    assert.equal(d('192.0.2.2'), 'accept');
    assert.equal(d('192.0.2.10'), 'drop');
    assert.equal(d('192.0.2.20'), 'drop');
    assert.equal(d('192.0.2.21'), 'accept');
    assert.equal(d('10.1.2.3', 5432), 'accept');
    assert.equal(d('10.2.2.3', 5432), 'drop');
    assert.equal(d('fd00::5', 5432), 'accept');
    assert.equal(d('fe80::5', 5432), 'drop');
  });
  test('ports: single, range, list, negation; ports without protocol mean tcp and udp', () => {
    const p = policy(`
lists: { port: { db: [5432, 3306] } }
rules:
  - { name: r, action: deny, dstPort: 8000-8010 }
  - { name: l, action: deny, protocol: tcp, dstPort: "@db" }
  - { name: n, action: deny, direction: out, protocol: udp, dstPort: { not: [53] } }
`);
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 8005)).verdict, 'drop');
    assert.equal(evaluatePacket(p, { ...tcpIn('1.1.1.1', 8005), protocol: 17 }).verdict, 'drop');
    assert.equal(evaluatePacket(p, { ...tcpIn('1.1.1.1', 8005), protocol: 132 }).verdict, 'accept');
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 3306)).verdict, 'drop');
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 3307)).verdict, 'accept');
    const out = (dport: number): Packet => ({
      direction: 'out',
      frame: 'ipv4',
      src: '10.0.0.1',
      dst: '8.8.8.8',
      protocol: 17,
      srcPort: 5000,
      dstPort: dport,
    });
    assert.equal(evaluatePacket(p, out(53)).verdict, 'accept');
    assert.equal(evaluatePacket(p, out(123)).verdict, 'drop');
  });
  test('tcp flags, icmp type and code, MAC, interface wildcard', () => {
    const p = policy(`
rules:
  - { name: f, action: deny, protocol: tcp, tcpFlags: "syn,!ack", dstPort: 25 }
  - { name: i, action: deny, protocol: icmp, icmp: { type: echo-request, code: 0 } }
  - { name: m, action: deny, srcMac: "AA:AA:AA:AA:AA:AA" }
  - { name: w, action: deny, interface: "vlan*", protocol: udp }
`);
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 25)).rule, 'f');
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 25, { tcpFlags: ['syn', 'ack'] })).rule, undefined);
    const icmp: Packet = { direction: 'in', frame: 'ipv4', src: '1.1.1.1', protocol: 1, icmpType: 8, icmpCode: 0 };
    assert.equal(evaluatePacket(p, icmp).rule, 'i');
    assert.equal(evaluatePacket(p, { ...icmp, icmpCode: 1 }).rule, undefined);
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 80, { srcMac: 'aa:aa:aa:aa:aa:aa' })).rule, 'm');
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 80, { srcMac: 'aa:aa:aa:aa:aa:ab' })).rule, undefined);
    const udp: Packet = { direction: 'in', frame: 'ipv4', src: '1.1.1.1', protocol: 17, srcPort: 1, dstPort: 2 };
    assert.equal(evaluatePacket(p, { ...udp, iface: 'vlan10' }).rule, 'w');
    assert.equal(evaluatePacket(p, { ...udp, iface: 'eth0' }).rule, undefined);
  });
  test('schedules: days, hours, windows across midnight; no time means outside', () => {
    const p = policy(`
schedules:
  office: { days: [mon, fri], from: "08:00", to: "18:00" }
  night: { from: "22:00", to: "06:00" }
rules:
  - { name: o, action: deny, protocol: tcp, dstPort: 1, schedule: office }
  - { name: n, action: deny, protocol: tcp, dstPort: 2, schedule: night }
`);
    const at = (port: number, day: number, h: number, m = 0) =>
      evaluatePacket(p, tcpIn('1.1.1.1', port, { time: { day, minute: h * 60 + m } })).verdict;
    assert.equal(at(1, 1, 8), 'drop');
    assert.equal(at(1, 1, 17, 59), 'drop');
    assert.equal(at(1, 1, 18), 'accept');
    assert.equal(at(1, 2, 9), 'accept');
    assert.equal(at(2, 3, 23), 'drop');
    assert.equal(at(2, 3, 5, 59), 'drop');
    assert.equal(at(2, 3, 6), 'accept');
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 1)).verdict, 'accept');
  });
});

describe('stateful options', () => {
  test('return traffic is accepted after the rules, so deny rules still cut established flows', () => {
    const p = policy(
      'rules:\n  - { name: out, action: allow, direction: out, protocol: tcp, dstPort: 443 }\n  - { name: d, action: deny, direction: out, dstIp: 10.6.6.6 }\n',
    );
    const reply: Packet = {
      direction: 'out',
      frame: 'ipv4',
      src: '10.0.0.1',
      dst: '10.5.5.5',
      protocol: 6,
      srcPort: 80,
      dstPort: 40000,
      tcpFlags: ['syn', 'ack'],
      ctState: 'established',
    };
    assert.equal(evaluatePacket(p, reply).reason, 'return-traffic');
    assert.equal(evaluatePacket(p, { ...reply, dst: '10.6.6.6' }).verdict, 'drop');
    assert.equal(evaluatePacket(p, { ...reply, ctState: 'new' }).reason, 'implicit-deny');
  });
  test('invalid and evasive packets are dropped; bypassed ones are not inspected', () => {
    const p = policy('stateful: { antiEvasion: true }\nrules:\n  - { name: b, action: bypass, protocol: tcp, dstPort: 9 }\n');
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 80, { ctState: 'invalid' })).reason, 'invalid');
    for (const flags of [['syn', 'fin'], ['syn', 'rst'], [], ['fin', 'psh', 'urg'], ['fin']] as const) {
      assert.equal(
        evaluatePacket(p, tcpIn('1.1.1.1', 80, { tcpFlags: [...flags], ctState: 'established' })).reason,
        'evasion',
        flags.join(),
      );
    }
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 80, { tcpFlags: ['ack'] })).reason, 'evasion', 'new without syn');
    assert.equal(evaluatePacket(p, tcpIn('1.1.1.1', 9, { tcpFlags: [], ctState: 'untracked' })).rule, 'b');
  });
  test('simulated connections: TCP needs all four packets, bypass must cover both directions', () => {
    const p = policy(`
rules:
  - { name: in80, action: allow, protocol: tcp, dstPort: 80 }
  - { name: out, action: allow, direction: out, protocol: tcp, dstPort: 443 }
  - { name: bp, action: bypass, protocol: udp, dstPort: 5000 }
`);
    const conn = (port: number, protocol: 'tcp' | 'udp' = 'tcp') =>
      simulateConnection(p, { protocol, initiator: 'in', local: { ip: '10.0.0.1', port }, remote: { ip: '10.0.0.2', port: 40000 } });
    assert.equal(conn(80).ok, true, 'reply passes the outbound allow-list as return traffic');
    assert.equal(conn(80).steps.length, 4);
    assert.equal(conn(22).ok, false);
    // The bypassed request is untracked, so its reply is "new" and meets the outbound allow-list.
    const bp = conn(5000, 'udp');
    assert.equal(bp.ok, false);
    assert.equal(bp.steps[1]!.verdict.reason, 'implicit-deny');
  });
  test('dynamic block list and failsafe', () => {
    const p = policy(`
failsafe: { manager: 10.20.0.5:4120, adminSources: [10.30.0.0/16], adminPorts: [22] }
rules:
  - { name: web, action: allow, protocol: tcp, dstPort: 443 }
  - { name: all-out, action: deny, direction: out }
`);
    const blocked = { blocked: [parseAddressRange('10.30.0.0/16') as never] };
    assert.equal(evaluatePacket(p, tcpIn('10.30.1.1', 22), blocked).reason, 'failsafe', 'failsafe comes before the block list');
    assert.equal(evaluatePacket(p, tcpIn('10.30.1.1', 443), blocked).reason, 'block-list');
    assert.equal(evaluatePacket(p, tcpIn('10.40.1.1', 443), blocked).verdict, 'accept');
    const toManager: Packet = {
      direction: 'out',
      frame: 'ipv4',
      src: '10.0.0.1',
      dst: '10.20.0.5',
      protocol: 6,
      srcPort: 40000,
      dstPort: 4120,
      tcpFlags: ['syn'],
    };
    assert.equal(evaluatePacket(p, toManager).reason, 'failsafe');
    assert.match(evaluateManagerReach(p, p.failsafe.manager!) ?? '', /"all-out"/);
  });
});
