// Compile + apply time of a large firewall policy (10,000 rules and a 100,000-address list),
// applied for real with nft inside a network namespace created for the run. The established
// tool on the same input is nft itself: we compare against what a rule-per-address translation
// (the iptables habit) costs nft to load, which is why lists compile to sets.
//   npm run bench:firewall [-- --rules 10000 --addresses 100000 --naive 20000 --runs 3 --no-group]
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileRuleset, loadPolicy } from '@palisade/firewall';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RULES = arg('rules', 10_000);
const ADDRESSES = arg('addresses', 100_000);
const NAIVE = arg('naive', 20_000);
const RUNS = arg('runs', 3);
const GROUP = !process.argv.includes('--no-group');

function v4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function policyYaml(): string {
  const lines: string[] = ['name: bench', 'failsafe: { manager: 10.255.0.1:4120, adminSources: [10.254.0.0/16], adminPorts: [22] }'];
  lines.push(
    'stateful: { conntrack: true, dropInvalid: true, antiEvasion: true, portScan: { threshold: 50, per: minute, blockFor: 10m } }',
  );
  lines.push('lists:', '  ip:', '    bad: |');
  // Every other address so none merge into ranges: the worst case for the set, 100,000 elements.
  // One per line in a block scalar: the form the docs recommend for long lists.
  for (let i = 0; i < ADDRESSES; i++) lines.push(`      ${v4(0x64000000 + i * 2)}`);
  lines.push('rules:', '  - { name: bad, action: deny, priority: 4, srcIp: "@bad", log: true }');
  const actions = ['deny', 'allow', 'force-allow', 'log-only', 'deny'];
  // Last in decision order (priority 0, allow ranks below deny): every echo packet of the
  // packet-path measurement walks all rules before it is accepted.
  lines.push('  - { name: echo, action: allow, priority: 0, protocol: udp, dstPort: 7 }');
  for (let i = 1; i < RULES; i++) {
    const a = actions[i % actions.length];
    const net = `172.${16 + ((i >> 8) & 15)}.${i & 255}.0/24`;
    lines.push(`  - { name: r${i}, action: ${a}, priority: ${i % 5}, protocol: tcp, srcIp: ${net}, dstPort: ${1024 + (i % 50000)} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** The same policy as the manager would send it: JSON (the loader's fast path). */
function policyJson(): string {
  const bad: string[] = [];
  for (let i = 0; i < ADDRESSES; i++) bad.push(v4(0x64000000 + i * 2));
  const actions = ['deny', 'allow', 'force-allow', 'log-only', 'deny'];
  const rules: Record<string, unknown>[] = [
    { name: 'bad', action: 'deny', priority: 4, srcIp: '@bad', log: true },
    { name: 'echo', action: 'allow', priority: 0, protocol: 'udp', dstPort: 7 },
  ];
  for (let i = 1; i < RULES; i++) {
    const net = `172.${16 + ((i >> 8) & 15)}.${i & 255}.0/24`;
    rules.push({
      name: `r${i}`,
      action: actions[i % actions.length],
      priority: i % 5,
      protocol: 'tcp',
      srcIp: net,
      dstPort: 1024 + (i % 50000),
    });
  }
  return JSON.stringify({
    name: 'bench',
    failsafe: { manager: '10.255.0.1:4120', adminSources: ['10.254.0.0/16'], adminPorts: [22] },
    stateful: { conntrack: true, dropInvalid: true, antiEvasion: true, portScan: { threshold: 50, per: 'minute', blockFor: '10m' } },
    lists: { ip: { bad } },
    rules,
  });
}

function naiveRuleset(n: number): string {
  const out = [
    'table inet naive',
    'delete table inet naive',
    'table inet naive {',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
  ];
  for (let i = 0; i < n; i++) out.push(`\t\tip saddr ${v4(0x64000000 + i * 2)} counter drop`);
  out.push('\t}', '}');
  return `${out.join('\n')}\n`;
}

const ms = (t0: number) => performance.now() - t0;

const ECHO_SERVER = `import dgram from 'node:dgram';
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(7, '10.99.0.1', () => console.log('ready'));`;

const ECHO_CLIENT = `import dgram from 'node:dgram';
const n = Number(process.argv[1]);
const s = dgram.createSocket('udp4');
const rtts = [];
let t0 = 0;
s.on('message', () => {
  rtts.push(Number(process.hrtime.bigint() - t0) / 1000);
  if (rtts.length === n) { s.close(); rtts.sort((a, b) => a - b); console.log(JSON.stringify({ medianUs: Math.round(rtts[n >> 1]), p90Us: Math.round(rtts[Math.floor(n * 0.9)]) })); return; }
  send();
});
function send() { t0 = process.hrtime.bigint(); s.send('x', 7, '10.99.0.1'); }
s.connect(7, '10.99.0.1', send);`;

/**
 * Per-packet cost of the ruleset: UDP echo round trips from a second namespace to a port that
 * is only accepted after every rule (the kernel walks the whole input chain for each packet),
 * with no Palisade tables, with the grouped ruleset and with one nft rule per policy rule.
 */
function packetPath(ns: string, yaml: string, groupedFile: string): Record<string, unknown> {
  const client = `${ns}-c`;
  const n = 3000;
  execFileSync('ip', ['netns', 'add', client]);
  let echo: ChildProcess | undefined;
  try {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'bs', 'type', 'veth', 'peer', 'name', 'bc', 'netns', client]);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', 'bs']);
    execFileSync('ip', ['-n', client, 'addr', 'add', '10.99.0.2/24', 'dev', 'bc']);
    for (const [n2, dev] of [
      [ns, 'bs'],
      [client, 'bc'],
      [ns, 'lo'],
      [client, 'lo'],
    ])
      execFileSync('ip', ['-n', n2!, 'link', 'set', dev!, 'up']);
    echo = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', ECHO_SERVER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    execFileSync('sleep', ['0.5']);
    const measure = () =>
      JSON.parse(
        execFileSync('ip', ['netns', 'exec', client, process.execPath, '--input-type=module', '-e', ECHO_CLIENT, String(n)], {
          encoding: 'utf8',
          timeout: 120_000,
        }),
      );
    const out: Record<string, unknown> = { roundTrips: n };
    execFileSync('ip', ['netns', 'exec', ns, 'nft', 'delete table inet palisade']);
    out.noFirewall = measure();
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', groupedFile]);
    out[GROUP ? 'grouped' : 'ungrouped'] = measure();
    const loaded = loadPolicy(yaml);
    if (loaded.ok) {
      const other = compileRuleset(loaded.value, GROUP ? { groupMinRules: 0 } : {});
      if (other.ok) {
        const f = `${groupedFile}.other`;
        writeFileSync(f, other.value.text);
        execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', f]);
        out[GROUP ? 'ungrouped' : 'grouped'] = measure();
      }
    }
    return out;
  } finally {
    echo?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', client]);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ns = `pal-bench-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'palisade-fw-bench-'));
const canApply =
  process.getuid?.() === 0 && spawnSync('nft', ['--version']).status === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
try {
  const yaml = policyYaml();
  const loadT: number[] = [];
  const compileT: number[] = [];
  // On a shared machine wall time mostly measures the neighbours; CPU time is what the work costs.
  const compileCpu: number[] = [];
  let text = '';
  let ruleCount = 0;
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    const loaded = loadPolicy(yaml, 'bench.yaml');
    loadT.push(ms(t));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics.slice(0, 3)));
    t = performance.now();
    const cpu0 = process.cpuUsage();
    const compiled = compileRuleset(loaded.value, GROUP ? {} : { groupMinRules: 0 });
    compileT.push(ms(t));
    const cpu = process.cpuUsage(cpu0);
    compileCpu.push((cpu.user + cpu.system) / 1000);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    text = compiled.value.text;
    ruleCount = compiled.value.ruleCount;
  }
  const json = policyJson();
  const tj = performance.now();
  const fromJson = loadPolicy(json, 'bench.json');
  const jsonLoadMs = ms(tj);
  if (!fromJson.ok) throw new Error(JSON.stringify(fromJson.diagnostics.slice(0, 3)));
  const jsonText = compileRuleset(fromJson.value, GROUP ? {} : { groupMinRules: 0 });
  if (!jsonText.ok || jsonText.value.text !== text) throw new Error('the JSON form of the policy compiles differently from the YAML form');
  const file = join(dir, 'ruleset.nft');
  writeFileSync(file, text);
  if (process.env.PALISADE_BENCH_KEEP) writeFileSync(process.env.PALISADE_BENCH_KEEP, text);
  const result: Record<string, unknown> = {
    machine: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`,
    nft: canApply ? execFileSync('nft', ['--version'], { encoding: 'utf8' }).trim() : 'not run',
    policy: { rules: RULES, listAddresses: ADDRESSES, yamlBytes: yaml.length, nftRules: ruleCount, rulesetBytes: text.length },
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(1))),
    loadYamlMs: Math.round(median(loadT)),
    loadJsonMs: Math.round(jsonLoadMs),
    // The agent compiles once per policy change, in a process where this code has not run hot:
    // the first compile is the honest number; later ones show the JIT-warm cost.
    compileFirstMs: Math.round(compileT[0]!),
    compileWarmMs: Math.round(median(compileT.slice(1).length ? compileT.slice(1) : compileT)),
    compileFirstCpuMs: Math.round(compileCpu[0]!),
  };
  if (canApply) {
    execFileSync('ip', ['netns', 'add', ns]);
    const cpuOf: number[] = [];
    const nft = (f: string) => {
      const t = performance.now();
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', f]);
      return ms(t);
    };
    // bash's `time` reports the child's user+sys CPU; the kernel's commit runs in nft's syscalls.
    const nftCpu = (f: string) => {
      const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S'; time ip netns exec ${ns} nft -f ${f}`], { encoding: 'utf8' });
      const [u, sy] = r.stderr.trim().split(/\s+/).slice(-2).map(Number);
      cpuOf.push(((u ?? 0) + (sy ?? 0)) * 1000);
      return cpuOf[cpuOf.length - 1]!;
    };
    const first = nft(file); // tables do not exist yet
    const again: number[] = [];
    for (let r = 0; r < RUNS; r++) again.push(nft(file)); // replace in place, as every policy update does
    result.applyFirstMs = Math.round(first);
    result.applyReplaceMs = Math.round(median(again));
    result.compilePlusApplyMs = Math.round(compileT[0]! + median(again));
    const applyCpu = median([nftCpu(file), nftCpu(file), nftCpu(file)]);
    result.applyReplaceCpuMs = Math.round(applyCpu);
    result.compilePlusApplyCpuMs = Math.round(compileCpu[0]! + applyCpu);
    const naive = join(dir, 'naive.nft');
    writeFileSync(naive, naiveRuleset(NAIVE));
    const naiveMs = nft(naive);
    const setOnly = join(dir, 'set-only.nft');
    const elems: string[] = [];
    for (let i = 0; i < NAIVE; i++) elems.push(v4(0x64000000 + i * 2));
    writeFileSync(
      setOnly,
      `table inet naive\ndelete table inet naive\ntable inet naive {\n\tset s { type ipv4_addr; elements = { ${elems.join(', ')} } }\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tip saddr @s counter drop\n\t}\n}\n`,
    );
    const setMs = nft(setOnly);
    execFileSync('ip', ['netns', 'exec', ns, 'nft', 'delete table inet naive']);
    result.sameAddressesAsRules = {
      addresses: NAIVE,
      ruleperAddressApplyMs: Math.round(naiveMs),
      oneSetApplyMs: Math.round(setMs),
      ratio: Number((naiveMs / setMs).toFixed(1)),
    };
    if (!process.argv.includes('--no-packet-path')) result.packetPath = packetPath(ns, yaml, file);
  } else {
    result.apply = 'skipped: needs root, nft and ip netns';
  }
  result.command = `npm run bench:firewall -- --rules ${RULES} --addresses ${ADDRESSES} --naive ${NAIVE} --runs ${RUNS}${GROUP ? '' : ' --no-group'}`;
  console.log(JSON.stringify(result, null, 2));
} finally {
  if (canApply) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
