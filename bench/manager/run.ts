/**
 * Manager load benchmark: N simulated agents heartbeat every `interval` seconds and together send
 * `eventsPerSecond` events in batches, against one manager process on PostgreSQL (HTTPS,
 * keep-alive). Requests are sent on an open-loop schedule and latency is measured from the
 * scheduled time, so a slow manager cannot hide its queueing (no coordinated omission).
 *
 *   npm run bench:manager -- --agents 10000 --interval 10 --events 20000 --duration 30
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AGENT_API } from '@palisade/protocol';
import { timeOrderedId } from '../../apps/agent/src/time-ordered-id.ts';
import { testLocations } from '../../apps/manager/src/testing/test-stores.ts';
import { freePort, startManagerProcess } from '../../e2e/support/real-processes.ts';
import { cpuSecondsOf, pidsNamed } from '../support/proc-stat.ts';

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '10' },
    events: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '100' },
    duration: { type: 'string', default: '30' },
    db: { type: 'string', default: 'postgres' },
  },
});
const AGENTS = Number(args.agents);
const INTERVAL = Number(args.interval);
const EVENTS_PER_S = Number(args.events);
const BATCH = Number(args.batch);
const DURATION = Number(args.duration);

const loc = testLocations().find((l) => l().name === args.db)!();
const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-manager-'));
const manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort(), db: loc.dbArg });
const ca = readFileSync(manager.caFile, 'utf8');
const keepAlive = new Agent({ keepAlive: true, maxSockets: 64, ca });

function post(path: string, auth: string | null, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Bodies may come pre-serialized, so the generator spends its CPU on sending, not on JSON.
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      `${manager.url}${path}`,
      {
        method: 'POST',
        agent: keepAlive,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(data),
          ...(auth ? { authorization: auth } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const hbBody = (i: number) => ({
  host: { hostname: `sim-${i}`, platform: 'linux/bench', ips: ['10.9.0.1'], agentVersion: 'bench' },
  configHash: '',
  modules: {},
  spool: { pending: 0, dropped: 0 },
});

// 1. Activate the simulated agents (not timed as part of the load).
const { token } = await manager.client.createToken({ maxUses: AGENTS, ttlSeconds: 3600 });
const creds: string[] = [];
const t0 = performance.now();
for (let i = 0; i < AGENTS; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, AGENTS - i) }, (_, j) =>
      post(AGENT_API.activate, null, {
        token,
        host: { hostname: `sim-${i + j}`, platform: 'linux/bench', ips: ['10.9.0.1'], agentVersion: 'bench' },
      }),
    ),
  );
  for (const r of batch) {
    const b = JSON.parse(r.body);
    creds.push(`Agent ${b.agentId}:${b.agentSecret}`);
  }
}
const activationSeconds = (performance.now() - t0) / 1000;
process.stderr.write(`activated ${AGENTS} agents in ${activationSeconds.toFixed(1)} s\n`);

// 2. Every request body of the run is built before the clock starts (event ids must be unique,
// or idempotent ingest would store nothing): the generator shares the 2 cores with the manager
// and PostgreSQL, and should cost them as little as possible.
const hbBodies = creds.map((_, i) => JSON.stringify(hbBody(i)));
const totalBatches = Math.ceil((EVENTS_PER_S / BATCH) * DURATION) + 10;
const batchBodies: string[] = [];
const eventTime = new Date().toISOString();
for (let b = 0; b < totalBatches; b++) {
  const events = Array.from({ length: BATCH }, (_, k) => ({
    id: timeOrderedId(),
    time: eventTime,
    module: 'ips',
    type: 'detection',
    severity: 'medium',
    ruleId: '942100',
    message: `bench ${k}`,
  }));
  batchBodies.push(JSON.stringify({ events }));
}
process.stderr.write(`prepared ${hbBodies.length} heartbeat and ${batchBodies.length} event-batch bodies\n`);

/** CPU seconds of every PostgreSQL process (the server and its backends), or 0 on SQLite. */
const databaseCpuSeconds = () => (args.db === 'postgres' ? cpuSecondsOf(pidsNamed('postgres')) : 0);
const managerPid = manager.proc.child.pid!;
const managerCpu0 = cpuSecondsOf([managerPid]);
const databaseCpu0 = databaseCpuSeconds();
const selfCpu0 = process.cpuUsage();

// 3. Open-loop load.
const hbLatency: number[] = [];
const evLatency: number[] = [];
let hbOk = 0;
let evOk = 0;
let errors = 0;
const inflight: Promise<void>[] = [];
const start = performance.now();
const end = start + DURATION * 1000;
const hbPerMs = AGENTS / (INTERVAL * 1000);
const batchesPerMs = EVENTS_PER_S / BATCH / 1000;
let hbSent = 0;
let batchesSent = 0;
while (performance.now() < end) {
  const now = performance.now();
  const elapsed = now - start;
  while (hbSent < elapsed * hbPerMs) {
    const scheduled = start + hbSent / hbPerMs;
    const i = hbSent % AGENTS;
    hbSent++;
    inflight.push(
      post(AGENT_API.heartbeat, creds[i]!, hbBodies[i]!).then(
        (r) => {
          if (r.status === 200) hbOk++;
          else errors++;
          hbLatency.push(performance.now() - scheduled);
        },
        () => void errors++,
      ),
    );
  }
  while (batchesSent < elapsed * batchesPerMs) {
    const scheduled = start + batchesSent / batchesPerMs;
    const i = batchesSent % AGENTS;
    batchesSent++;
    inflight.push(
      post(AGENT_API.events, creds[i]!, batchBodies[batchesSent - 1]!).then(
        (r) => {
          if (r.status === 200) evOk += BATCH;
          else errors++;
          evLatency.push(performance.now() - scheduled);
        },
        () => void errors++,
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 2));
}
await Promise.all(inflight);
const wall = (performance.now() - start) / 1000;
const managerCpu = cpuSecondsOf([managerPid]) - managerCpu0;
const databaseCpu = databaseCpuSeconds() - databaseCpu0;
const selfCpu = process.cpuUsage(selfCpu0);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const result = {
  backend: args.db,
  agents: AGENTS,
  heartbeatIntervalSeconds: INTERVAL,
  targetHeartbeatsPerSecond: AGENTS / INTERVAL,
  targetEventsPerSecond: EVENTS_PER_S,
  durationSeconds: Number(wall.toFixed(1)),
  heartbeatsPerSecond: Math.round(hbOk / wall),
  eventsPerSecond: Math.round(evOk / wall),
  heartbeatP50Ms: Number(pct(hbLatency, 50).toFixed(1)),
  heartbeatP99Ms: Number(pct(hbLatency, 99).toFixed(1)),
  eventBatchP50Ms: Number(pct(evLatency, 50).toFixed(1)),
  eventBatchP99Ms: Number(pct(evLatency, 99).toFixed(1)),
  errors,
  activationSeconds: Number(activationSeconds.toFixed(1)),
  /** Share of one core used during the load, per process. */
  managerCores: Number((managerCpu / wall).toFixed(2)),
  databaseCores: Number((databaseCpu / wall).toFixed(2)),
  /** CPU milliseconds per agent request (heartbeat or event batch), manager and database: fair under load. */
  managerCpuMsPerRequest: Number(((managerCpu * 1000) / Math.max(1, hbOk + evOk / BATCH)).toFixed(3)),
  databaseCpuMsPerRequest: Number(((databaseCpu * 1000) / Math.max(1, hbOk + evOk / BATCH)).toFixed(3)),
  loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  loadGeneratorCores: Number(((selfCpu.user + selfCpu.system) / 1e6 / wall).toFixed(2)),
};
console.log(JSON.stringify(result, null, 2));
keepAlive.destroy();
await manager.proc.stop();
await loc.cleanup();
rmSync(dir, { recursive: true, force: true });
