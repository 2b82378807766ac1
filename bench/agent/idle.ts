// Idle footprint of an agent with every module on (the quickstart policy: all seven modules in
// detect mode with their default settings): waits until the start-up work (integrity baseline,
// application-control inventory, ...) has settled, then samples the agent process tree's RSS and
// CPU. Usage:
//   npm run bench:agent-idle [-- --settle-max 600 --sample 60] [--modules all|none|a,b]
//                            [--per-module] [--sources]
// By default it runs the agent of the deployment bundle (esbuild, plain node, started by the
// bundle's bin/palisade with its V8 flags: what install.sh, the .deb, the .rpm and the systemd
// unit run), built from this checkout into a temporary folder.
// --sources     the TypeScript sources under tsx instead (how tests and `npm run` start it: adds
//               tsx's loader thread and esbuild service; PALISADE_E2E_NODE_ARGS adds node flags)
// --modules     only these modules on (the others off); default all
// --per-module  one run with no module, one per module alone, one with all: the breakdown
// --settings    JSON of module settings over the quickstart defaults, e.g.
//               '{"app-control":{"packageOrigin":false}}' (what one option costs)
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickstartPolicySettings } from '@palisade/manager';
import { MODULE_NAMES } from '@palisade/protocol';
import {
  activateAgent,
  freePort,
  type ManagerProcess,
  startAgentProcess,
  startManagerProcess,
  waitFor,
} from '../../e2e/support/real-processes.ts';
import { buildAgentBundle } from '../../scripts/build-agent-bundle.ts';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const optStr = (name: string, d: string) => (args.includes(name) ? String(args[args.indexOf(name) + 1]) : d);
const settleMax = opt('--settle-max', 600);
const sampleSeconds = opt('--sample', 60);
const perModule = args.includes('--per-module');
const useBundle = !args.includes('--sources');
const TICK = 100; // USER_HZ

function tree(pid: number): number[] {
  const out = [pid];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      try {
        out.push(...tree(Number(c)));
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}
/** CPU ticks (user + system) of each process of the tree. */
function cpuTicks(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(p, Number(f[11]) + Number(f[12]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
/**
 * Ticks spent between two readings: a process that started meanwhile counts from zero, one that
 * ended meanwhile is left out (its last ticks are lost, rather than making the sum go backwards).
 */
function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [p, t] of after) sum += t - (before.get(p) ?? 0);
  return sum;
}
function statusField(pid: number, field: string): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // gone meanwhile
  }
}
function rssKb(pids: number[]): number {
  return pids.reduce((sum, p) => sum + statusField(p, 'VmRSS'), 0);
}
/** What each process of the tree is (the agent's helpers: dmesg, journalctl, the fanotify gate, ...). */
function processes(pids: number[]): { command: string; rssMb: number; threads: number }[] {
  return pids.map((p) => {
    let command = '?';
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      command = argv
        .slice(0, 3)
        .map((a) => a.split('\n')[0]!.slice(-40))
        .join(' ');
    } catch {
      // gone meanwhile
    }
    return { command, rssMb: Math.round(statusField(p, 'VmRSS') / 1024), threads: statusField(p, 'Threads') };
  });
}

/** The agent as a process: stop() ends it (SIGTERM, then SIGKILL). */
interface RunningAgent {
  pid: number;
  agentId: string;
  stop(): Promise<void>;
}

async function startBundledAgent(palisade: string, manager: ManagerProcess, dataDir: string, policyId: string): Promise<RunningAgent> {
  // activation writes the same identity files whichever build runs it
  const agentId = await activateAgent(manager, dataDir, policyId);
  const log = createWriteStream(join(dataDir, 'agent.log'));
  const child: ChildProcess = spawn(palisade, ['agent', 'start', '--data-dir', dataDir, '--inventory-interval', '0'], {
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise((r) => child.once('exit', r));
  // the bundle's `bin/palisade` is a shell script that execs node: the pid is the agent's
  await waitFor('bundled agent control socket', () => readdirSync(dataDir).includes('agent.sock'), 60_000);
  return {
    pid: child.pid!,
    agentId,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** `--settings '{"app-control":{"packageOrigin":false}}'`: module settings over the quickstart defaults. */
const extraSettings = JSON.parse(optStr('--settings', '{}')) as Record<string, Record<string, unknown>>;

function policySettings(on: readonly string[]) {
  const s = quickstartPolicySettings();
  for (const m of MODULE_NAMES) {
    if (!on.includes(m)) s.modules[m] = { enabled: false, mode: 'off' } as never;
    else if (extraSettings[m]) s.modules[m] = { ...s.modules[m]!, settings: extraSettings[m] } as never;
  }
  return s;
}

async function measure(manager: ManagerProcess, dir: string, label: string, on: readonly string[], palisade: string | undefined) {
  const policy = await manager.client.createPolicy({ name: `idle ${label}`, settings: policySettings(on) });
  const dataDir = join(dir, `agent-${label.replace(/[^a-z0-9-]/g, '_')}`);
  let agent: RunningAgent;
  if (palisade) agent = await startBundledAgent(palisade, manager, dataDir, policy.id);
  else {
    const a = await startAgentProcess(manager, dataDir, { policyId: policy.id });
    agent = { pid: a.proc.child.pid!, agentId: a.agentId, stop: () => a.proc.stop() };
  }
  const pid = agent.pid;
  const began = Date.now();
  try {
    // Settled: under 1 % of a core over the last 30 s (or the time limit).
    let prev = cpuTicks(tree(pid));
    let settledAfter: number | null = null;
    let peakMb = 0;
    while ((Date.now() - began) / 1000 < settleMax) {
      let t = Date.now();
      const windowStart = t;
      while (t - windowStart < 30_000) {
        await new Promise((r) => setTimeout(r, 2000));
        peakMb = Math.max(peakMb, rssKb(tree(pid)) / 1024);
        t = Date.now();
      }
      const now = cpuTicks(tree(pid));
      const share = ticksBetween(prev, now) / TICK / ((t - windowStart) / 1000);
      prev = now;
      process.stderr.write(
        `[${label}] t=${Math.round((Date.now() - began) / 1000)}s cpu ${(share * 100).toFixed(1)} % rss ${Math.round(rssKb(tree(pid)) / 1024)} MB\n`,
      );
      if (share < 0.01) {
        settledAfter = Math.round((Date.now() - began) / 1000);
        break;
      }
    }
    const t0 = cpuTicks(tree(pid));
    const w0 = Date.now();
    const rss: number[] = [];
    for (let i = 0; i < sampleSeconds / 5; i++) {
      await new Promise((r) => setTimeout(r, 5000));
      rss.push(rssKb(tree(pid)));
    }
    const cpuShare = ticksBetween(t0, cpuTicks(tree(pid))) / TICK / ((Date.now() - w0) / 1000);
    const computer = await manager.client.getComputer(agent.agentId);
    return {
      label,
      agent: palisade ? 'bundle (esbuild, plain node)' : 'sources (tsx)',
      modules: Object.fromEntries(
        Object.entries(computer.modules)
          .filter(([k]) => on.includes(k))
          .map(([k, v]) => [k, v.state + ('reason' in v && v.reason ? `: ${String(v.reason).slice(0, 120)}` : '')]),
      ),
      settledAfterSeconds: settledAfter,
      startupPeakRssMb: Math.round(peakMb),
      sampleSeconds,
      processes: processes(tree(pid)),
      rssMbMax: Math.round(Math.max(...rss) / 1024),
      rssMbMean: Math.round(rss.reduce((a, b) => a + b, 0) / rss.length / 1024),
      cpuPercentOfOneCore: Math.round(cpuShare * 1000) / 10,
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    };
  } finally {
    await agent.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'palisade-idle-'));
const manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
try {
  const palisade = useBundle ? join((await buildAgentBundle({ outDir: join(dir, 'bundle') })).dir, 'bin', 'palisade') : undefined;
  const runs: [string, readonly string[]][] = perModule
    ? [['none', []], ...MODULE_NAMES.map((m): [string, string[]] => [m, [m]]), ['all', MODULE_NAMES]]
    : (() => {
        const m = optStr('--modules', 'all');
        return [[m, m === 'all' ? MODULE_NAMES : m === 'none' ? [] : m.split(',')]];
      })();
  const results = [];
  for (const [label, on] of runs) {
    const r = await measure(manager, dir, label, on, palisade);
    results.push(r);
    // one JSON document per run as it finishes, so a long --per-module run shows progress
    console.log(JSON.stringify(r, null, 2));
  }
  if (perModule) {
    const none = results[0]!.rssMbMean;
    console.log('\n| modules on | RSS mean (MB) | over no module (MB) | CPU % | processes (RSS MB, threads) |');
    console.log('|---|---:|---:|---:|---|');
    for (const r of results) {
      const procs = r.processes.map((p) => `${p.command.split(' ')[0]!.split('/').pop()} ${p.rssMb}/${p.threads}`).join(', ');
      console.log(`| ${r.label} | ${r.rssMbMean} | ${r.rssMbMean - none} | ${r.cpuPercentOfOneCore} | ${procs} |`);
    }
  }
} finally {
  await manager.proc.stop();
  rmSync(dir, { recursive: true, force: true });
}
