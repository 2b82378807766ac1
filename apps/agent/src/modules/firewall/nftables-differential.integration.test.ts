import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileRuleset, type FirewallPolicy, loadPolicy, simulateConnection } from '@palisade/firewall';
import { labUnavailableReason, NetnsLab, pythonAvailable } from './netns-lab.ts';
import { NftablesFirewall } from './nftables-firewall.ts';

// Differential test: random policies (fixed seed, so failures reproduce), random connection
// attempts, and the kernel's behaviour must equal the evaluator's prediction for every attempt.
// The hand-written matrix in nftables-firewall.integration.test.ts pins the meaning; this one
// looks for combinations nobody thought of.

const skip = labUnavailableReason();
if (skip) console.log(`# firewall differential tests skipped: ${skip}`);
const havePython = !skip && pythonAvailable();
const SEED = Number(process.env.PALISADE_FW_SEED ?? 20261126);
const POLICIES = Number(process.env.PALISADE_FW_POLICIES ?? 6);

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TCP = [22, 80, 443, 3306, 8080, 9000];
const UDP = [53, 5353];
/** Listeners in client A for connections the server makes. */
const OUT_TCP = [80, 8080];
const OUT_UDP = [53];

function randomPolicy(r: () => number, n: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const lines = [
    `stateful: { conntrack: ${r() < 0.8}, dropInvalid: ${r() < 0.5}, antiEvasion: ${r() < 0.3} }`,
    'lists:',
    '  ip: { clients: [10.77.1.2, 10.77.2.0/24] }',
    '  port: { some: [80, 3000-3400, 9000] }',
    'rules:',
  ];
  const count = 2 + Math.floor(r() * 6);
  for (let i = 0; i < count; i++) {
    const f: string[] = [`name: r${n}_${i}`, `action: ${pick(['allow', 'deny', 'force-allow', 'log-only', 'bypass', 'deny', 'allow'])}`];
    f.push(`priority: ${Math.floor(r() * 5)}`);
    const dir = r() < 0.75 ? 'in' : 'out';
    f.push(`direction: ${dir}`);
    const proto = pick(['tcp', 'tcp', 'udp', 'icmp', 'none']);
    if (proto !== 'none') f.push(`protocol: ${proto}`);
    const not = () => r() < 0.2;
    if (r() < 0.5) {
      const ip = pick(['10.77.1.2', '10.77.2.2', '10.77.1.0/24', '10.77.0.0/16', '"@clients"', '10.77.2.1-10.77.2.9']);
      f.push(`${dir === 'in' ? 'srcIp' : 'dstIp'}: ${not() ? `{ not: ${ip} }` : ip}`);
    }
    if ((proto === 'tcp' || proto === 'udp') && r() < 0.7) {
      const port =
        proto === 'tcp' ? pick([...TCP.map(String), '"@some"', '3000-3400', '[22, 443]']) : pick([...UDP.map(String), '[53, 5353]']);
      // outbound: the server's port of inbound connections (srcPort) or the peer's (dstPort)
      const key = dir === 'in' ? 'dstPort' : r() < 0.5 ? 'srcPort' : 'dstPort';
      f.push(`${key}: ${not() ? `{ not: ${port} }` : port}`);
    }
    if (proto === 'icmp' && r() < 0.5) f.push('icmp: echo-request');
    if (proto === 'tcp' && r() < 0.15) f.push('tcpFlags: "syn,!ack"');
    if (r() < 0.2) f.push(`interface: ${not() ? '{ not: sb }' : pick(['sa', 'sb', '"s*"'])}`);
    lines.push(`  - { ${f.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}

describe('random policies: kernel == evaluator', { skip }, () => {
  let lab: NetnsLab;
  let fw: NftablesFirewall;
  before(async () => {
    lab = new NetnsLab(`${process.pid}d`);
    lab.create();
    fw = new NftablesFirewall({ netns: lab.server, stateDir: lab.stateDir });
    await lab.listen(lab.server, TCP, UDP);
    await lab.listen(lab.clientA, OUT_TCP, OUT_UDP);
  });
  after(() => lab?.destroy());

  const r = rng(SEED);
  for (let n = 0; n < POLICIES; n++) {
    const yaml = randomPolicy(r, n);
    test(`policy ${n} (seed ${SEED})`, async () => {
      const loaded = loadPolicy(yaml, `random-${n}.yaml`);
      assert.ok(loaded.ok, `${yaml}\n${JSON.stringify(loaded.diagnostics)}`);
      const p: FirewallPolicy = loaded.value;
      const compiled = compileRuleset(p);
      assert.ok(compiled.ok, JSON.stringify(compiled.diagnostics));
      const res = await fw.apply(compiled.value.text);
      assert.ok(res.ok, res.error);
      type From = 'a' | 'b' | 'server';
      const attempts: { from: From; proto: 'tcp' | 'udp' | 'icmp'; port?: number }[] = [];
      for (const from of ['a', 'b'] as const) {
        for (const port of TCP) attempts.push({ from, proto: 'tcp', port });
        for (const port of UDP) attempts.push({ from, proto: 'udp', port });
        if (havePython) attempts.push({ from, proto: 'icmp' });
      }
      for (const port of OUT_TCP) attempts.push({ from: 'server', proto: 'tcp', port });
      for (const port of OUT_UDP) attempts.push({ from: 'server', proto: 'udp', port });
      if (havePython) attempts.push({ from: 'server', proto: 'icmp' });
      const target = (from: From) => (from === 'a' ? lab.ip.server1 : from === 'b' ? lab.ip.server2 : lab.ip.a);
      const results = new Map<(typeof attempts)[number], string>();
      await Promise.all(
        (['a', 'b', 'server'] as const).flatMap((from) => {
          const ns = from === 'a' ? lab.clientA : from === 'b' ? lab.clientB : lab.server;
          const l4 = attempts.filter((x) => x.from === from && x.proto !== 'icmp');
          const icmp = attempts.filter((x) => x.from === from && x.proto === 'icmp');
          return [
            lab
              .attempt(
                ns,
                l4.map((x) => ({ proto: x.proto as 'tcp' | 'udp', host: target(from), port: x.port! })),
              )
              .then((o) => l4.forEach((x, i) => results.set(x, o[i]!))),
            icmp.length
              ? lab
                  .ping(
                    ns,
                    icmp.map(() => target(from)),
                  )
                  .then((o) => icmp.forEach((x, i) => results.set(x, o[i]!)))
              : Promise.resolve(),
          ];
        }),
      );
      const diffs: string[] = [];
      for (const x of attempts) {
        const model =
          x.from === 'server'
            ? simulateConnection(p, {
                protocol: x.proto,
                initiator: 'out',
                local: { ip: lab.ip.server1, port: 45000 },
                remote: { ip: lab.ip.a, port: x.port },
                localIface: 'sa',
              })
            : simulateConnection(p, {
                protocol: x.proto,
                initiator: 'in',
                local: { ip: target(x.from), port: x.port },
                remote: { ip: x.from === 'a' ? lab.ip.a : lab.ip.b, port: 45000 },
                localIface: x.from === 'a' ? 'sa' : 'sb',
              });
        if (model.ok && x.proto !== 'icmp' && results.get(x) === 'timeout') {
          // A loaded machine can miss the 700 ms window: a connection the model passes gets one
          // more try with a long timeout before it counts as dropped.
          const ns = x.from === 'a' ? lab.clientA : x.from === 'b' ? lab.clientB : lab.server;
          const [again] = await lab.attempt(ns, [{ proto: x.proto as 'tcp' | 'udp', host: target(x.from), port: x.port! }], 4000);
          results.set(x, again!);
        }
        const real = results.get(x) === 'ok';
        if (real !== model.ok) {
          const last = model.steps[model.steps.length - 1]!.verdict;
          diffs.push(
            `${x.from} ${x.proto}/${x.port ?? ''}: kernel ${results.get(x)}, model ${model.ok ? 'pass' : `blocked (${last.reason} ${last.rule ?? ''})`}`,
          );
        }
      }
      assert.deepEqual(diffs, [], `policy:\n${yaml}`);
    });
  }
});
