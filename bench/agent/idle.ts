// Idle footprint of an agent with every module on (the quickstart policy: all seven modules in
// detect mode with their default settings): waits until the start-up work (integrity baseline,
// application-control inventory, ...) has settled, then samples the agent process tree's RSS and
// CPU for a minute. Usage: npm run bench:agent-idle [-- --settle-max 600 --sample 60]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickstartPolicySettings } from '@palisade/manager';
import { freePort, startAgentProcess, startManagerProcess } from '../../e2e/support/real-processes.ts';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const settleMax = opt('--settle-max', 600);
const sampleSeconds = opt('--sample', 60);
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
function cpuTicks(pids: number[]): number {
  let sum = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      sum += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}
function rssKb(pids: number[]): number {
  let sum = 0;
  for (const p of pids) {
    try {
      sum += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

const dir = mkdtempSync(join(tmpdir(), 'palisade-idle-'));
const manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
const policy = await manager.client.createPolicy({ name: 'all modules', settings: quickstartPolicySettings() });
const agent = await startAgentProcess(manager, join(dir, 'agent'), { policyId: policy.id });
const pid = agent.proc.child.pid!;
const began = Date.now();
try {
  // Settled: under 1 % of a core over the last 30 s (or the time limit).
  let prev = cpuTicks(tree(pid));
  let settledAfter: number | null = null;
  while ((Date.now() - began) / 1000 < settleMax) {
    await new Promise((r) => setTimeout(r, 30_000));
    const now = cpuTicks(tree(pid));
    const share = (now - prev) / TICK / 30;
    prev = now;
    process.stderr.write(
      `t=${Math.round((Date.now() - began) / 1000)}s cpu ${(share * 100).toFixed(1)} % rss ${Math.round(rssKb(tree(pid)) / 1024)} MB\n`,
    );
    if (share < 0.01) {
      settledAfter = Math.round((Date.now() - began) / 1000);
      break;
    }
  }
  const t0 = cpuTicks(tree(pid));
  const rss: number[] = [];
  for (let i = 0; i < sampleSeconds / 5; i++) {
    await new Promise((r) => setTimeout(r, 5000));
    rss.push(rssKb(tree(pid)));
  }
  const cpuShare = (cpuTicks(tree(pid)) - t0) / TICK / sampleSeconds;
  const computer = await manager.client.getComputer(agent.agentId);
  console.log(
    JSON.stringify(
      {
        modules: Object.fromEntries(Object.entries(computer.modules).map(([k, v]) => [k, v.state])),
        settledAfterSeconds: settledAfter,
        sampleSeconds,
        processes: tree(pid).length,
        rssMbMax: Math.round(Math.max(...rss) / 1024),
        rssMbMean: Math.round(rss.reduce((a, b) => a + b, 0) / rss.length / 1024),
        cpuPercentOfOneCore: Math.round(cpuShare * 1000) / 10,
        loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      },
      null,
      2,
    ),
  );
} finally {
  await agent.proc.stop();
  await manager.proc.stop();
  rmSync(dir, { recursive: true, force: true });
}
