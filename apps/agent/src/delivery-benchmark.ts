import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { activateAgent } from './activate-agent.ts';
import { silentLogger } from './agent-logger.ts';
import { EventSpool } from './event-spool.ts';
import { ModuleRegistry } from './module-registry.ts';
import { runAgent } from './run-agent.ts';
import { FakeManager } from './testing/fake-manager.ts';

export interface DeliveryBenchmarkResult {
  machine: string;
  spoolAddPerSecond: number;
  spoolDrainPerSecond: number;
  endToEndPerSecond: number;
  sustained500: { events: number; maxBacklog: number; drainMsAfterLast: number };
  outage: { events: number; outageSeconds: number; drainMsAfterReturn: number; delivered: number };
}

const host = { hostname: 'bench', platform: 'linux/bench', ips: [], agentVersion: '0' };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await wait(5);
  }
}

/**
 * Measures the agent's event path against the protocol-checking fake manager on loopback (so it
 * measures the agent, not the manager): raw spool speed, end-to-end throughput, the backlog at a
 * sustained 500 events/s, and how fast a backlog drains after a manager outage.
 */
export async function runDeliveryBenchmark(): Promise<DeliveryBenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-agent-bench-'));
  try {
    const spool = EventSpool.open(join(dir, 'raw.sqlite'));
    const n = 20_000;
    let t = performance.now();
    for (let i = 0; i < n; i++) {
      spool.add({ id: randomUUID(), time: new Date().toISOString(), module: 'system', type: 'test', severity: 'info', message: `e${i}` });
    }
    const spoolAddPerSecond = Math.round(n / ((performance.now() - t) / 1000));
    t = performance.now();
    for (let b = spool.peek(500); b.length > 0; b = spool.peek(500)) spool.ack(b.map((e) => e.id));
    const spoolDrainPerSecond = Math.round(n / ((performance.now() - t) / 1000));
    spool.close();

    const manager = new FakeManager();
    await manager.start();
    const port = manager.port;
    manager.setConfig({ heartbeatSeconds: 10, spool: { maxBytes: 256 << 20 }, modules: {} });
    const dataDir = join(dir, 'agent');
    await activateAgent({ managerUrl: manager.url, token: 'activation-token-0001', dataDir, host });
    // no modules and no inventory walk: this measures the event path alone
    const agent = await runAgent({ dataDir, logger: silentLogger(), hostFacts: () => host, registry: new ModuleRegistry(), inventoryIntervalMs: 0 });
    try {
      t = performance.now();
      await agent.emitTestEvents(n);
      await until(() => agent.status().spool.pending === 0, 120_000);
      const endToEndPerSecond = Math.round(n / ((performance.now() - t) / 1000));

      let maxBacklog = 0;
      const sampler = setInterval(() => {
        maxBacklog = Math.max(maxBacklog, agent.status().spool.pending);
      }, 10);
      await agent.emitTestEvents(5_000, 500);
      const last = performance.now();
      await until(() => agent.status().spool.pending === 0, 60_000);
      const drainMsAfterLast = Math.round(performance.now() - last);
      clearInterval(sampler);

      const before = manager.events.size;
      const outageSeconds = 10;
      await manager.stop();
      const emitting = agent.emitTestEvents(5_000, 500);
      await wait(outageSeconds * 1000);
      await manager.start(port);
      const back = performance.now();
      await emitting;
      await until(() => agent.status().spool.pending === 0, 60_000);
      const drainMsAfterReturn = Math.round(performance.now() - back - Math.max(0, 10_000 - outageSeconds * 1000));
      return {
        machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
        spoolAddPerSecond,
        spoolDrainPerSecond,
        endToEndPerSecond,
        sustained500: { events: 5_000, maxBacklog, drainMsAfterLast },
        outage: { events: 5_000, outageSeconds, drainMsAfterReturn, delivered: manager.events.size - before },
      };
    } finally {
      await agent.stop();
      await manager.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runDeliveryBenchmark(), null, 2));
}
