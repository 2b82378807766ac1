// npm run bench:appcontrol — added exec latency of application control enforcement.
// Runs a small C loop (vfork + execve + waitpid) over /bin/true copies on a private tmpfs:
// no enforcement, enforcement with a cached verdict, and enforcement with a cache miss on
// every run (the file's first byte rewritten before each exec: same content, new cache key, so
// the helper hashes the file, and with a path rule in the policy also asks the agent). Needs root and fanotify permission events.
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppControlModule } from '../../apps/agent/src/modules/app-control/index.ts';
import { labUnavailableReason } from '../../apps/agent/src/modules/app-control/testing/app-control-lab.ts';
import { silentLogger } from '../../apps/agent/src/agent-logger.ts';
import type { ModuleContext } from '../../apps/agent/src/agent-module.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const runs = Number(process.env.RUNS ?? 10_000);
const missRuns = Number(process.env.MISS_RUNS ?? 2_000);

const skip = labUnavailableReason();
if (skip) {
  console.error(`bench:appcontrol needs: ${skip}`);
  process.exit(1);
}

const base = mkdtempSync(join(tmpdir(), 'palisade-appctl-bench-'));
const mnt = join(base, 'mnt');
const data = join(base, 'data');
mkdirSync(mnt);
mkdirSync(data);
const loop = join(base, 'exec-loop');
execFileSync('cc', ['-O2', '-o', loop, join(here, 'exec-loop.c')]);
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);

interface Row {
  scenario: string;
  binary: string;
  runs: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  failures: number;
  /** CPU time of the helper and of the agent (this process) per run, where enforcement runs. */
  helperCpuUs?: number;
  agentCpuUs?: number;
  /** The helper's own clock: answering a cache hit; hashing on a miss; request-to-answer of the agent. */
  helperHitUs?: number;
  helperHashUs?: number;
  agentAnswerUs?: number;
}
const rows: Row[] = [];
const m = new AppControlModule();
let helperPid = 0;
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of a process in µs, from /proc (clock ticks: coarse, so only totals over many runs mean anything). */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

async function measure(scenario: string, binary: string, n: number, touch: boolean): Promise<Row> {
  const g0 = helperPid ? await m.gateStats() : undefined;
  const h0 = helperPid ? cpuOf(helperPid) : 0;
  const a0 = process.cpuUsage();
  const out = execFileSync(loop, [String(n), join(mnt, binary), ...(touch ? ['--touch'] : [])], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .map(Number);
  const [count, mean, p50, p99, failures] = out as [number, number, number, number, number];
  const a = process.cpuUsage(a0);
  const row: Row = { scenario, binary, runs: count, meanUs: mean / 1000, p50Us: p50 / 1000, p99Us: p99 / 1000, failures };
  if (helperPid) {
    row.helperCpuUs = (cpuOf(helperPid) - h0) / count;
    row.agentCpuUs = (a.user + a.system) / count;
    const g1 = await m.gateStats();
    if (g0 && g1) {
      const hits = g1.hits - g0.hits;
      const misses = g1.misses - g0.misses;
      const answers = g1.answers - g0.answers;
      if (hits) row.helperHitUs = (g1.hitNs - g0.hitNs) / hits / 1000;
      if (misses) row.helperHashUs = (g1.hashNs - g0.hashNs) / misses / 1000;
      if (answers) row.agentAnswerUs = (g1.answerNs - g0.answerNs) / answers / 1000;
    }
  }
  rows.push(row);
  const f = (x?: number) => (x === undefined ? '-' : x.toFixed(1));
  const cpu = helperPid
    ? `\n    CPU/run helper ${f(row.helperCpuUs)} µs, agent ${f(row.agentCpuUs)} µs; helper clock: hit ${f(row.helperHitUs)} µs, hash ${f(row.helperHashUs)} µs, agent answer ${f(row.agentAnswerUs)} µs`
    : '';
  console.log(
    `${scenario.padEnd(31)} ${binary.padEnd(5)} n=${count} mean ${row.meanUs.toFixed(0)} µs  p50 ${row.p50Us.toFixed(0)} µs  p99 ${row.p99Us.toFixed(0)} µs  fail ${failures}${cpu}`,
  );
  return row;
}

try {
  copyFileSync('/bin/true', join(mnt, 'true'));
  copyFileSync('/bin/true', join(mnt, 'big'));
  // 1 MiB of padding after the ELF image: still runs, and a miss must hash all of it.
  appendFileSync(join(mnt, 'big'), Buffer.alloc(1 << 20, 0x5a));
  execFileSync('chmod', ['755', join(mnt, 'true'), join(mnt, 'big')]);
  // Group-writable: no inode ignore mark (see fanotify-gate.c), so every exec reaches the helper's cache.
  copyFileSync('/bin/true', join(mnt, 'truegw'));
  appendFileSync(join(mnt, 'truegw'), Buffer.from('gw'));
  execFileSync('chmod', ['775', join(mnt, 'truegw')]);
  const load0 = loadavg();
  console.log(`load average before: ${load0.map((x) => x.toFixed(2)).join(' ')}`);
  await measure('none', 'truegw', runs, false);
  for (const b of ['true', 'big']) {
    await measure('none', b, runs, false);
    await measure('none, touched each run', b, missRuns, true);
  }
  const config = { enabled: true, mode: 'prevent' as const, settings: { roots: [mnt], marks: { mounts: [mnt] }, hashThreads: 1 } };
  const ctx: ModuleContext = { emit: (e) => e as never, logger: silentLogger(), dataDir: data, config };
  await m.start(ctx);
  // start() returns before the baseline exists; measure what runs once it does.
  await m.settled();
  if (m.status().state !== 'running' || m.status().details?.baselineState !== 'ready')
    throw new Error(`module not ready: ${JSON.stringify(m.status())}`);
  helperPid = Number(m.status().details?.helperPid);
  await measure('enforced, cached in the helper', 'truegw', runs, false);
  for (const b of ['true', 'big']) {
    await measure('enforced, cached verdict', b, runs, false);
    await measure('enforced, cache miss every run', b, missRuns, true);
  }
  // A path rule makes the verdict depend on where a file lies: the helper can no longer answer
  // a miss from the content-allowed set and asks the agent's enforcement thread every time.
  await m.reconfigure({
    ...config,
    settings: {
      ...config.settings,
      rulesets: [{ id: 'bench', name: 'bench', rules: [{ kind: 'path', pattern: '/nonexistent/', action: 'block' }] }],
    },
  });
  for (const b of ['true', 'big']) await measure('enforced, miss, agent asked', b, missRuns, true);
  const stats = await m.gateStats();
  console.log(`helper: ${JSON.stringify(stats)} hash=${String(m.status().details?.hash)}`);
  if (stats) {
    // The helper's own clock: what enforcement costs per decision, apart from scheduling.
    console.log(
      `helper per cache hit ${(stats.hitNs / stats.hits / 1000).toFixed(1)} µs; per miss: hashing ${(stats.hashNs / stats.misses / 1000).toFixed(1)} µs (both sizes), agent answer ${(stats.answerNs / Math.max(1, stats.answers) / 1000).toFixed(1)} µs`,
    );
  }
  console.log(
    `load average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const by = (s: string, b: string) => rows.find((r) => r.scenario === s && r.binary === b)!;
  console.log(
    `truegw: added p50 latency cached in the helper (no kernel ignore mark) ${(by('enforced, cached in the helper', 'truegw').p50Us - by('none', 'truegw').p50Us).toFixed(1)} µs`,
  );
  for (const b of ['true', 'big']) {
    const cached = by('enforced, cached verdict', b).p50Us - by('none', b).p50Us;
    const miss = by('enforced, cache miss every run', b).p50Us - by('none, touched each run', b).p50Us;
    const asked = by('enforced, miss, agent asked', b).p50Us - by('none, touched each run', b).p50Us;
    console.log(
      `${b}: added p50 latency cached ${cached.toFixed(1)} µs, uncached ${miss.toFixed(1)} µs, uncached with the agent asked ${asked.toFixed(1)} µs`,
    );
  }
  console.log(JSON.stringify({ rows, loadavg: [load0, loadavg()] }));
} finally {
  await m.stop();
  try {
    execFileSync('umount', ['-l', mnt]);
  } catch {
    // already unmounted
  }
  rmSync(base, { recursive: true, force: true });
}
