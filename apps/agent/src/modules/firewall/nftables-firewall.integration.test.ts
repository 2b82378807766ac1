import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import {
  compileRuleset,
  type EvaluationContext,
  type FirewallPolicy,
  loadPolicy,
  parseAddressRange,
  simulateConnection,
} from '@palisade/firewall';
import { NetnsLab, labUnavailableReason, pythonAvailable } from './netns-lab.ts';
import { NftablesFirewall } from './nftables-firewall.ts';

// Real packets through real nftables, inside namespaces this test creates. Each case states the
// expected outcome by hand; the evaluator must predict the same, and the kernel must do the same.

const skip = labUnavailableReason();
if (skip) console.log(`# firewall real-traffic tests skipped: ${skip}`);
const havePython = !skip && pythonAvailable();
if (!skip && !havePython) console.log('# ICMP cases skipped: python3 (used to send ICMP echo) is not available');

interface Case {
  from: 'a' | 'b' | 'server-to-a';
  proto: 'tcp' | 'udp' | 'icmp';
  port?: number;
  /** Target address when it is not the default one of the link. */
  to?: string;
  expect: boolean;
  why: string;
}

function policy(yaml: string): FirewallPolicy {
  const r = loadPolicy(yaml, 'inline.yaml');
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.value;
}

function compile(p: FirewallPolicy): string {
  const c = compileRuleset(p);
  assert.ok(c.ok, JSON.stringify(c.diagnostics));
  return c.value.text;
}

describe('nftables firewall with real traffic', { skip }, () => {
  let lab: NetnsLab;
  let fw: NftablesFirewall;

  before(async () => {
    lab = new NetnsLab();
    lab.create();
    fw = new NftablesFirewall({ netns: lab.server, stateDir: lab.stateDir });
    await lab.listen(lab.server, [22, 80, 443, 3306, 8080, 9000], [53, 5353]);
    await lab.listen(lab.clientA, [80, 8080], [53]);
  });
  after(() => lab?.destroy());

  /** Runs the cases concurrently and checks reality, model and hand-written expectation agree. */
  async function check(
    p: FirewallPolicy,
    cases: Case[],
    ctx: EvaluationContext = {},
    extra: { time?: { day: number; minute: number }; macA?: string } = {},
  ): Promise<void> {
    const ip = lab.ip;
    const plan = cases.map((c) => {
      const inbound = c.from !== 'server-to-a';
      const target = c.to ?? (c.from === 'a' ? ip.server1 : c.from === 'b' ? ip.server2 : ip.a);
      const six = target.includes(':');
      const clientIp = c.from === 'a' ? (six ? ip.a6 : ip.a) : ip.b;
      const model = simulateConnection(
        p,
        {
          protocol: c.proto === 'icmp' ? 'icmp' : c.proto,
          initiator: inbound ? 'in' : 'out',
          local: inbound ? { ip: target, port: c.port } : { ip: ip.server1, port: 45000 },
          remote: inbound ? { ip: clientIp, port: 45000 } : { ip: target, port: c.port },
          localIface: c.from === 'b' ? 'sb' : 'sa',
          ...(extra.time ? { time: extra.time } : {}),
          ...(extra.macA && c.from === 'a' ? { remoteMac: extra.macA } : {}),
        },
        ctx,
      );
      return { c, target, ns: c.from === 'a' ? lab.clientA : c.from === 'b' ? lab.clientB : lab.server, model };
    });
    const results = new Map<(typeof plan)[number], string>();
    const groups = new Map<string, typeof plan>();
    for (const x of plan) {
      if (x.c.proto === 'icmp' && !havePython) continue;
      const key = `${x.ns}|${x.c.proto === 'icmp' ? 'icmp' : 'l4'}`;
      groups.set(key, [...(groups.get(key) ?? []), x]);
    }
    await Promise.all(
      [...groups.entries()].map(async ([key, xs]) => {
        const out = key.endsWith('icmp')
          ? await lab.ping(
              xs[0]!.ns,
              xs.map((x) => x.target),
            )
          : await lab.attempt(
              xs[0]!.ns,
              xs.map((x) => ({ proto: x.c.proto as 'tcp' | 'udp', host: x.target, port: x.c.port! })),
            );
        xs.forEach((x, i) => results.set(x, out[i]!));
      }),
    );
    // On a loaded machine a connection that should pass can miss the 700 ms window: such cases
    // (and only those) are tried once more with a long timeout before they count as a drop.
    const slow = plan.filter((x) => x.c.expect && x.c.proto !== 'icmp' && results.get(x) === 'timeout');
    await Promise.all(
      slow.map(async (x) => {
        const [again] = await lab.attempt(x.ns, [{ proto: x.c.proto as 'tcp' | 'udp', host: x.target, port: x.c.port! }], 4000);
        results.set(x, again!);
      }),
    );
    const problems: string[] = [];
    for (const x of plan) {
      const real = results.get(x);
      if (real === undefined) continue;
      const label = `${x.c.from} -> ${x.target} ${x.c.proto}${x.c.port ? `/${x.c.port}` : ''} (${x.c.why})`;
      if (x.model.ok !== x.c.expect) problems.push(`model says ${x.model.ok ? 'pass' : 'blocked'} for ${label}`);
      if ((real === 'ok') !== x.c.expect) problems.push(`kernel: ${real} for ${label}, expected ${x.c.expect ? 'pass' : 'blocked'}`);
    }
    assert.deepEqual(problems, []);
  }

  async function apply(p: FirewallPolicy): Promise<void> {
    const res = await fw.apply(compile(p));
    assert.ok(res.ok, res.error);
  }

  test('allow-list: only what is allowed gets in; ports, port lists, CIDRs', async () => {
    const p = policy(`
lists:
  port: { web: [80, 443] }
rules:
  - { name: web, action: allow, protocol: tcp, dstPort: "@web" }
  - { name: dns-a, action: allow, protocol: udp, dstPort: 53, srcIp: 10.77.1.0/24 }
`);
    await apply(p);
    await check(p, [
      { from: 'a', proto: 'tcp', port: 80, expect: true, why: 'in the web list' },
      { from: 'b', proto: 'tcp', port: 443, expect: true, why: 'in the web list' },
      { from: 'a', proto: 'tcp', port: 22, expect: false, why: 'not allowed: implicit deny' },
      { from: 'a', proto: 'tcp', port: 8080, expect: false, why: 'not allowed: implicit deny' },
      { from: 'a', proto: 'udp', port: 53, expect: true, why: 'source in the CIDR' },
      { from: 'b', proto: 'udp', port: 53, expect: false, why: 'source outside the CIDR' },
      { from: 'a', proto: 'icmp', expect: false, why: 'ICMP not allowed' },
      { from: 'server-to-a', proto: 'tcp', port: 80, expect: true, why: 'outbound has no allow rules; reply is return traffic' },
    ]);
  });

  test('deny, force-allow over deny, priorities, negation, ranges, ICMP', async () => {
    const p = policy(`
lists:
  ip: { partners: [10.77.1.2, 10.77.9.0/24] }
rules:
  - { name: no-b, action: deny, srcIp: 10.77.2.0/24 }
  - { name: b-https, action: force-allow, protocol: tcp, dstPort: 443, srcIp: 10.77.2.2 }
  - { name: no-8080, action: deny, priority: 3, protocol: tcp, dstPort: 8080 }
  - { name: a-8080, action: force-allow, priority: 4, protocol: tcp, dstPort: 8080, srcIp: 10.77.1.2 }
  - { name: no-mdns, action: deny, priority: 1, protocol: udp, dstPort: 5353 }
  - { name: weak-mdns, action: force-allow, priority: 0, protocol: udp, dstPort: 5353 }
  - { name: partners-9000, action: deny, protocol: tcp, dstPort: 9000, srcIp: { not: "@partners" } }
  - { name: no-db, action: deny, protocol: tcp, dstPort: 3000-3400 }
  - { name: no-ping-b, action: deny, protocol: icmp, icmp: echo-request, interface: sb }
  - { name: watch, action: log-only, priority: 4, protocol: tcp, dstPort: 22 }
`);
    await apply(p);
    await check(p, [
      { from: 'b', proto: 'tcp', port: 80, expect: false, why: 'deny of B’s subnet' },
      { from: 'b', proto: 'tcp', port: 443, expect: true, why: 'force-allow beats deny at equal priority' },
      { from: 'a', proto: 'tcp', port: 80, expect: true, why: 'no allow rules: default accept' },
      { from: 'a', proto: 'tcp', port: 8080, expect: true, why: 'priority 4 force-allow beats priority 3 deny' },
      { from: 'b', proto: 'tcp', port: 8080, expect: false, why: 'priority 3 deny' },
      { from: 'a', proto: 'udp', port: 5353, expect: false, why: 'priority 1 deny beats priority 0 force-allow' },
      { from: 'a', proto: 'tcp', port: 9000, expect: true, why: 'A is a partner (list), not negated' },
      { from: 'a', proto: 'tcp', port: 3306, expect: false, why: 'port range deny' },
      { from: 'a', proto: 'tcp', port: 22, expect: true, why: 'log-only never decides' },
      { from: 'a', proto: 'icmp', expect: true, why: 'ping deny is on the other interface' },
      { from: 'b', proto: 'icmp', expect: false, why: 'ping denied on sb' },
    ]);
    const counters = await fw.counters();
    assert.ok((counters['no-8080']?.packets ?? 0) > 0, 'the deny rule counted the dropped packets');
    assert.ok((counters.watch?.packets ?? 0) > 0, 'the log-only rule counted');
    // One allow rule turns the inbound side into an allow-list: what is not allowed is denied.
    p.rules.push(policy('rules: [{ name: only-9000, action: allow, protocol: tcp, dstPort: 9000 }]\n').rules[0]!);
    await apply(p);
    await check(p, [
      { from: 'a', proto: 'tcp', port: 80, expect: false, why: 'allow-list now: 80 not in it' },
      { from: 'a', proto: 'tcp', port: 9000, expect: true, why: 'allowed' },
      { from: 'a', proto: 'tcp', port: 8080, expect: true, why: 'force-allow needs no allow rule' },
      { from: 'a', proto: 'icmp', expect: false, why: 'allow-list covers ICMP too' },
    ]);
  });

  test('large policies: grouped rules (one concatenated set) decide like single rules', async () => {
    const denies = Array.from(
      { length: 40 },
      (_, i) => `  - { name: d${i}, action: deny, protocol: tcp, srcIp: 10.77.2.${2 + (i % 3)}, dstPort: ${9000 + i * 3} }`,
    );
    const others = Array.from(
      { length: 30 },
      (_, i) => `  - { name: x${i}, action: deny, protocol: tcp, srcIp: 10.${100 + i}.0.0/16, dstPort: 443 }`,
    );
    const p = policy(
      `rules:\n${denies.join('\n')}\n${others.join('\n')}\n  - { name: fa, action: force-allow, priority: 3, protocol: tcp, srcIp: 10.77.2.2, dstPort: 3306 }\n  - { name: d-db, action: deny, protocol: tcp, dstPort: 3306 }\n`,
    );
    const text = compile(p);
    assert.match(text, /@grp_input_1/);
    assert.ok((await fw.apply(text)).ok);
    await check(p, [
      { from: 'b', proto: 'tcp', port: 9000, expect: false, why: 'grouped deny (B, 9000)' },
      { from: 'a', proto: 'tcp', port: 9000, expect: true, why: 'A is not in the group' },
      { from: 'b', proto: 'tcp', port: 443, expect: true, why: 'other group members do not match B' },
      { from: 'b', proto: 'tcp', port: 3306, expect: true, why: 'higher-priority force-allow before the group' },
      { from: 'a', proto: 'tcp', port: 3306, expect: false, why: 'deny after the group' },
    ]);
  });

  test('schedules (host local time), MAC addresses and bypass', async () => {
    const now = new Date();
    const minute = now.getHours() * 60 + now.getMinutes();
    const hm = (m: number) => {
      const x = ((m % 1440) + 1440) % 1440;
      return `"${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}"`;
    };
    const today = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][now.getDay()];
    const macA = /link\/ether ([0-9a-f:]{17})/.exec(lab.exec(lab.clientA, 'ip', ['link', 'show', 'eth0']))![1]!;
    const p = policy(`
stateful: { antiEvasion: true }
schedules:
  now: { days: [${today}], from: ${hm(minute - 60)}, to: ${hm(minute + 60)} }
  later: { from: ${hm(minute + 120)}, to: ${hm(minute + 180)} }
rules:
  - { name: web, action: allow, protocol: tcp, dstPort: [80, 8080, 9000] }
  - { name: in-window, action: deny, protocol: tcp, dstPort: 8080, schedule: now }
  - { name: out-of-window, action: deny, protocol: tcp, dstPort: 9000, schedule: later }
  - { name: mac-a, action: deny, priority: 3, srcMac: "${macA}", protocol: tcp, dstPort: 80 }
  - { name: mdns, action: bypass, protocol: udp, dstPort: 5353 }
`);
    await apply(p);
    await check(
      p,
      [
        { from: 'a', proto: 'tcp', port: 8080, expect: false, why: 'deny inside its time window' },
        { from: 'a', proto: 'tcp', port: 9000, expect: true, why: 'deny outside its time window' },
        { from: 'a', proto: 'tcp', port: 80, expect: false, why: 'A’s MAC is denied' },
        { from: 'b', proto: 'tcp', port: 80, expect: true, why: 'B’s MAC is not' },
        { from: 'a', proto: 'udp', port: 5353, expect: true, why: 'bypass passes the allow-list, reply untracked but outbound open' },
        { from: 'a', proto: 'udp', port: 53, expect: false, why: 'not allowed, not bypassed' },
      ],
      {},
      { time: { day: now.getDay(), minute }, macA },
    );
  });

  test('IPv6 rules apply to IPv6 traffic only', async () => {
    const p = policy(`
rules:
  - { name: v6-web, action: allow, frame: ipv6, protocol: tcp, dstPort: 80, srcIp: "fd77:1::2" }
`);
    await apply(p);
    await check(p, [
      { from: 'a', proto: 'tcp', port: 80, to: 'fd77:1::1', expect: true, why: 'allowed over IPv6' },
      { from: 'a', proto: 'tcp', port: 8080, to: 'fd77:1::1', expect: false, why: 'IPv6 allow-list' },
      { from: 'a', proto: 'tcp', port: 8080, expect: true, why: 'IPv4 is another kind: not affected' },
    ]);
  });

  test('stateful: return traffic passes an outbound allow-list only with conntrack', async () => {
    const withCt = policy(`
rules:
  - { name: out-web, action: allow, direction: out, protocol: tcp, dstPort: 80 }
  - { name: out-dns, action: allow, direction: out, protocol: udp, dstPort: 53 }
`);
    await apply(withCt);
    await check(withCt, [
      { from: 'a', proto: 'tcp', port: 80, expect: true, why: 'reply is established: accepted' },
      { from: 'a', proto: 'udp', port: 53, expect: true, why: 'UDP reply is established' },
      { from: 'server-to-a', proto: 'tcp', port: 80, expect: true, why: 'outbound allowed' },
      { from: 'server-to-a', proto: 'tcp', port: 8080, expect: false, why: 'outbound allow-list' },
      { from: 'server-to-a', proto: 'udp', port: 53, expect: true, why: 'outbound allowed, reply established' },
    ]);
    const noCt = policy(`
stateful: { conntrack: false, dropInvalid: false }
rules:
  - { name: out-web, action: allow, direction: out, protocol: tcp, dstPort: 80 }
`);
    await apply(noCt);
    await check(noCt, [
      { from: 'a', proto: 'tcp', port: 80, expect: false, why: 'SYN-ACK from port 80 is not "dport 80": dropped' },
      { from: 'server-to-a', proto: 'tcp', port: 80, expect: true, why: 'inbound has no allow-list' },
    ]);
  });

  test('dynamic block list with timeout, kept across re-applies', async () => {
    const p = policy('rules: []\n');
    await apply(p);
    // Long enough for the checks below to finish on a loaded machine before it expires.
    const blockedAt = Date.now();
    assert.ok((await fw.block(lab.ip.a, 8)).ok);
    const blocked: EvaluationContext = { blocked: [parseAddressRange(lab.ip.a) as never] };
    await check(
      p,
      [
        { from: 'a', proto: 'tcp', port: 80, expect: false, why: 'A is blocked' },
        { from: 'b', proto: 'tcp', port: 80, expect: true, why: 'B is not' },
      ],
      blocked,
    );
    await apply(p); // re-apply recreates the table; the block must survive it
    await check(p, [{ from: 'a', proto: 'udp', port: 53, expect: false, why: 'still blocked after re-apply' }], blocked);
    const left = blockedAt + 8300 - Date.now();
    assert.ok(left > 0, 'the checks outlasted the block: lengthen it');
    await new Promise((r) => setTimeout(r, left));
    await check(p, [{ from: 'a', proto: 'tcp', port: 80, expect: true, why: 'block expired' }]);
    assert.ok((await fw.block('10.77.2.0/24', 60)).ok, 'a CIDR can be blocked');
    await check(p, [{ from: 'b', proto: 'tcp', port: 80, expect: false, why: 'CIDR blocked' }], {
      blocked: [parseAddressRange('10.77.2.0/24') as never],
    });
    // An agent restart: a new instance on the same state directory removes and re-applies the
    // table, and puts the block back for the time that is left.
    await fw.remove();
    await check(p, [{ from: 'b', proto: 'tcp', port: 80, expect: true, why: 'table removed' }]);
    fw = new NftablesFirewall({ netns: lab.server, stateDir: lab.stateDir });
    assert.deepEqual(
      fw.dynamicBlocks().map((b) => b.address),
      ['10.77.2.0/24'],
    );
    await apply(p);
    await check(p, [{ from: 'b', proto: 'tcp', port: 80, expect: false, why: 'block restored after restart' }], {
      blocked: [parseAddressRange('10.77.2.0/24') as never],
    });
    assert.ok((await fw.unblock('10.77.2.0/24')).ok);
    await check(p, [{ from: 'b', proto: 'tcp', port: 80, expect: true, why: 'unblocked' }]);
    assert.deepEqual(
      new NftablesFirewall({ netns: lab.server, stateDir: lab.stateDir }).dynamicBlocks(),
      [],
      'the unblock is persisted too',
    );
  });

  test('port scan detection blocks the scanner for a while', async () => {
    const p = policy(`
stateful: { portScan: { threshold: 5, per: minute, blockFor: 30s } }
rules:
  - { name: web, action: allow, protocol: tcp, dstPort: 80 }
`);
    await apply(p);
    await check(p, [{ from: 'b', proto: 'tcp', port: 80, expect: true, why: 'before the scan' }]);
    const probes = Array.from({ length: 12 }, (_, i) => ({ proto: 'tcp' as const, host: lab.ip.server2, port: 1000 + i }));
    await lab.attempt(lab.clientB, probes, 300);
    const set = lab.exec(lab.server, 'nft', ['list', 'set', 'inet', 'palisade', 'scanblock4']);
    assert.match(set, /10\.77\.2\.2/);
    // The model has no counters: state the block to it the way the kernel now has it.
    await check(
      p,
      [
        { from: 'b', proto: 'tcp', port: 80, expect: false, why: 'scanner blocked' },
        { from: 'a', proto: 'tcp', port: 80, expect: true, why: 'others unaffected' },
      ],
      { blocked: [parseAddressRange(lab.ip.b) as never] },
    );
  });

  test('a ruleset nft rejects leaves the previous one in force', async () => {
    const p = policy('rules: [{ name: no-8080, action: deny, protocol: tcp, dstPort: 8080 }]\n');
    await apply(p);
    const before = lab.exec(lab.server, 'nft', ['list', 'table', 'inet', 'palisade']);
    // Valid syntax, refused by the kernel half-way (a rule refers to a set that does not exist):
    // the transaction must not leave the table deleted or half-built.
    const broken = compile(policy('rules: [{ name: web, action: allow, protocol: tcp, dstPort: 80 }]\n')).replace(
      'counter accept comment "web"',
      'ip saddr @missing counter accept comment "web"',
    );
    const res = await fw.apply(broken);
    assert.equal(res.ok, false);
    assert.match(res.error ?? '', /missing|No such file/);
    assert.equal(lab.exec(lab.server, 'nft', ['list', 'table', 'inet', 'palisade']), before);
    await check(p, [
      { from: 'a', proto: 'tcp', port: 8080, expect: false, why: 'old deny still there' },
      { from: 'a', proto: 'tcp', port: 22, expect: true, why: 'new allow-list never took effect' },
    ]);
    const st = await fw.status();
    assert.equal(st.state, 'active');
    assert.ok(st.lastError);
  });

  test('test-apply reverts a ruleset that cuts the manager off', async () => {
    // The "manager" is client A's port 80; the failsafe is not told about it, as when the agent
    // reaches its manager through an address the policy author did not know.
    const good = policy('rules: []\n');
    await apply(good);
    const cutting = policy(`
failsafe: { enabled: true }
rules:
  - { name: only-ssh-out, action: allow, direction: out, protocol: tcp, dstPort: 22 }
`);
    const probe = async () => (await lab.attempt(lab.server, [{ proto: 'tcp', host: lab.ip.a, port: 80 }], 300))[0] === 'ok';
    const res = await fw.testApply(compile(cutting), { probe, seconds: 1, intervalMs: 200 });
    assert.equal(res.kept, false);
    assert.equal(await probe(), true, 'the manager is reachable again');
    const res2 = await fw.testApply(compile(good), { probe, seconds: 1 });
    assert.equal(res2.kept, true);
  });

  test('never touches tables it does not own', async () => {
    execFileSync('ip', ['netns', 'exec', lab.server, 'nft', 'add table inet other; add chain inet other c; add rule inet other c counter']);
    await apply(policy('rules: []\n'));
    assert.ok((await fw.rollback()).ok);
    assert.ok((await fw.remove()).ok);
    const tables = lab.exec(lab.server, 'nft', ['list', 'tables']);
    assert.match(tables, /table inet other/);
    assert.doesNotMatch(tables, /palisade/);
  });
});

test('status is unsupported without root or without nft', async () => {
  const notRoot = new NftablesFirewall({ stateDir: '/nonexistent', isRoot: () => false });
  assert.deepEqual(await notRoot.status(), {
    state: 'unsupported',
    reason: 'not running as root: nftables needs CAP_NET_ADMIN',
    blocked: 0,
  });
  const noNft = new NftablesFirewall({
    stateDir: '/nonexistent',
    isRoot: () => true,
    run: async () => ({ code: 127, stdout: '', stderr: 'spawn nft ENOENT' }),
  });
  const st = await noNft.status();
  assert.equal(st.state, 'unsupported');
  assert.match(st.reason ?? '', /not installed/);
});
