/**
 * The dashboard's event summary (GET /api/v1/events/summary) against the approach it replaced
 * (the browser reading the newest 1,000 events of the window and counting them itself), on
 * SQLite and PostgreSQL, over a 24-hour window of N events from 50 computers. The summary is
 * exact over all N; the old approach read a fixed 1,000 events and was wrong beyond them. The
 * summary is run again with two candidate indexes for its GROUP BYs ((time, computer_id, module)
 * and (rule_id, time)), to show whether they would be worth their cost on every ingest.
 * Times are the median of R runs, wall-clock and this process's CPU (PostgreSQL's own CPU is in
 * its server process and not counted).
 *
 *   node --import tsx bench/console/event-summary.ts [--events 200000] [--runs 5] [--pg postgres://…]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent } from '@palisade/protocol';
import { sql } from 'kysely';
import { dropPostgresInstallation } from '../../apps/manager/src/store/database-factory.ts';
import type { StoreLocation } from '../../apps/manager/src/store/store-location.ts';
import { PRIMARY_TENANT, StoreProvider } from '../../apps/manager/src/store/store-provider.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const N = Number(arg('events', '200000'));
const RUNS = Number(arg('runs', '5'));
const PG = arg('pg', process.env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const until = new Date('2026-06-02T00:00:00.000Z');
const since = new Date(until.getTime() - 86400_000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed<T>(fn: () => Promise<T>): Promise<{ wallMs: number; cpuMs: number; value: T }> {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t;
  const u = process.cpuUsage(c);
  return { wallMs, cpuMs: (u.user + u.system) / 1000, value };
}

function events(count: number, offset: number): AgentEvent[] {
  const modules = ['ips', 'firewall', 'log-inspection', 'integrity', 'anti-malware', 'web-reputation', 'system'] as const;
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    const module = modules[i % modules.length]!;
    return {
      id: `e${i}`,
      time: new Date(since.getTime() + Math.floor((i / N) * 86400_000)).toISOString(),
      module,
      type: module === 'system' ? 'agent.started' : `${module}.event`,
      severity: 'medium',
      ...(module === 'system' ? {} : { ruleId: String(900000 + (i % 300)) }),
      message: `event ${i}`,
      details:
        module === 'ips'
          ? { action: i % 3 ? 'blocked' : 'detected', cves: [`CVE-2024-${1000 + (i % 40)}`] }
          : { action: i % 5 ? 'log' : 'deny' },
    } as AgentEvent;
  });
}

async function run(name: string, location: StoreLocation) {
  const provider = await StoreProvider.open(location);
  const store = (await provider.tenant(PRIMARY_TENANT))!;
  const computers: string[] = [];
  for (let c = 0; c < 50; c++) {
    computers.push(
      (
        await store.computers.activate(
          { hostname: `host-${c}`, platform: 'linux', ips: ['10.0.0.1'], agentVersion: '0' },
          { policyId: null, group: null, heartbeatSeconds: 60 },
        )
      ).computer.id,
    );
  }
  const load = await timed(async () => {
    for (let i = 0; i < N; i += 1000) await store.events.ingest(computers[(i / 1000) % 50]!, events(Math.min(1000, N - i), i));
  });
  if (store.dialect === 'postgres') await sql`analyze events`.execute(store.db);
  const q = { since: since.toISOString(), until: until.toISOString(), top: 5 };
  const measure = async (fn: () => Promise<unknown>) => {
    await fn();
    const rs = [];
    for (let r = 0; r < RUNS; r++) rs.push(await timed(fn));
    return { wallMs: median(rs.map((r) => r.wallMs)), cpuMs: median(rs.map((r) => r.cpuMs)) };
  };
  const summary = await measure(() => store.events.summary(store.dialect, q));
  const latest1000 = await measure(() => store.events.query({ since: q.since, until: q.until, limit: 1000 }));
  await sql`create index bench_events_time_computer on events (time, computer_id, module)`.execute(store.db);
  await sql`create index bench_events_rule_time on events (rule_id, time)`.execute(store.db);
  if (store.dialect === 'postgres') await sql`analyze events`.execute(store.db);
  const summaryWithIndexes = await measure(() => store.events.summary(store.dialect, q));
  const s = await store.events.summary(store.dialect, q);
  await provider.close();
  return {
    backend: name,
    events: N,
    loadSeconds: +(load.wallMs / 1000).toFixed(1),
    summary,
    summaryWithIndexes,
    latest1000,
    total: s.total,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-summary-'));
const prefix = `pbench_${randomBytes(3).toString('hex')}`;
try {
  const results = [
    await run('sqlite', { kind: 'sqlite', dataDir: dir }),
    await run('postgres', { kind: 'postgres', url: PG, schemaPrefix: prefix }),
  ];
  const round = (x: { wallMs: number; cpuMs: number }) => `${x.wallMs.toFixed(0)} ms wall / ${x.cpuMs.toFixed(0)} ms CPU`;
  console.log(JSON.stringify({ cpus: cpus().length, loadavg: loadavg().map((l) => +l.toFixed(2)), runs: RUNS, results }, null, 2));
  console.log(
    '\n| backend | events | summary (exact, all events) | same with two candidate indexes | newest 1,000 events (old approach, inexact) |',
  );
  console.log('|---|---|---|---|---|');
  for (const r of results)
    console.log(`| ${r.backend} | ${r.events} | ${round(r.summary)} | ${round(r.summaryWithIndexes)} | ${round(r.latest1000)} |`);
} finally {
  await dropPostgresInstallation(PG, prefix).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
