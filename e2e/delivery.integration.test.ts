import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PalisadeClient } from '@palisade/api-client';
import { testLocations } from '../apps/manager/src/testing/test-stores.ts';
import { freePort, runCli, startAgentProcess, startManagerProcess, waitFor } from './support/real-processes.ts';

/**
 * No loss, no duplicate: an agent emits 5,000 test events at 500/s while the manager is killed
 * with SIGKILL for 20 s and restarted. Afterwards exactly the 5,000 emitted events are stored.
 * Run on SQLite and on PostgreSQL.
 */
const COUNT = 5000;
const RATE = 500;
const OUTAGE_MS = 20_000;

async function storedTestEvents(client: PalisadeClient, computerId: string): Promise<Array<{ id: string; seq: number; runId: string }>> {
  const out: Array<{ id: string; seq: number; runId: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await client.listEvents({ computerId, module: 'system', type: 'test', limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const e of page.events) out.push({ id: e.id, seq: Number(e.details?.seq), runId: String(e.details?.runId) });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

for (const make of testLocations()) {
  const loc = make();
  describe(`event delivery through a manager outage: ${loc.name}`, () => {
    test(`${COUNT} events at ${RATE}/s, manager SIGKILLed for ${OUTAGE_MS / 1000} s`, { timeout: 240_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'palisade-delivery-'));
      const port = await freePort();
      const mdir = join(dir, 'manager');
      let manager = await startManagerProcess({ dataDir: mdir, port, db: loc.dbArg });
      const agent = await startAgentProcess(manager, join(dir, 'agent'));
      try {
        const emitting = runCli([
          'agent',
          'test-events',
          '--count',
          String(COUNT),
          '--rate',
          String(RATE),
          '--data-dir',
          agent.dataDir,
          '--json',
        ]);
        // Let delivery get going, then kill the manager mid-stream without any chance to clean up.
        await waitFor(
          'first events stored',
          async () => (await manager.client.listEvents({ computerId: agent.agentId, limit: 1 })).events.length > 0,
          90_000, // generous: this only waits for the run to get going on a busy machine
          100,
        );
        manager.proc.kill('SIGKILL');
        await manager.proc.exited;
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        manager = await startManagerProcess({ dataDir: mdir, port, db: loc.dbArg, name: 'manager-restarted' });
        const emitted = await emitting;
        assert.equal(emitted.code, 0, emitted.stderr);
        const { runId } = JSON.parse(emitted.stdout) as { runId: string };

        const stored = await waitFor(
          `${COUNT} events stored`,
          async () => {
            const s = await storedTestEvents(manager.client, agent.agentId);
            return s.length >= COUNT ? s : undefined;
          },
          90_000,
          1000,
        );
        assert.equal(stored.length, COUNT, 'no duplicates');
        assert.equal(new Set(stored.map((e) => e.id)).size, COUNT);
        const seqs = new Set(stored.filter((e) => e.runId === runId).map((e) => e.seq));
        assert.equal(seqs.size, COUNT, 'every emitted event of the run is there');
        for (let i = 1; i <= COUNT; i++) assert.ok(seqs.has(i), `event ${i} lost`);
        // The agent's spool is empty and dropped nothing.
        const status = JSON.parse((await runCli(['agent', 'status', '--data-dir', agent.dataDir, '--json'])).stdout);
        assert.equal(status.spool.dropped, 0);
      } finally {
        await agent.proc.stop();
        await manager.proc.stop();
        await loc.cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
