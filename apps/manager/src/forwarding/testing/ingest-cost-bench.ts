// Ingest cost of the forwarding outbox: node --import tsx apps/manager/src/forwarding/testing/ingest-cost-bench.ts
// (SQLite and the test PostgreSQL; prints wall and CPU time per variant and the load average).
import { randomUUID } from 'node:crypto';
import { EventRepository } from '../../store/event-repository.ts';
import { PRIMARY_TENANT, StoreProvider } from '../../store/store-provider.ts';
import { testLocations } from '../../testing/test-stores.ts';

for (const make of testLocations()) {
  const loc = make();
  const p = await StoreProvider.open(loc.location);
  const store = (await p.tenant(PRIMARY_TENANT))!;
  const { computer } = await store.computers.activate(
    { hostname: 'h', platform: 'linux', ips: [], agentVersion: '0' },
    { policyId: null, group: null, heartbeatSeconds: 30 },
  );
  const plain = new EventRepository(store.db, () => new Date());
  const batch = () =>
    Array.from({ length: 20 }, () => ({
      id: randomUUID(),
      time: new Date().toISOString(),
      module: 'ips' as const,
      type: 'ips.blocked',
      severity: 'high' as const,
      message: 'x'.repeat(200),
    }));
  const run = async (label: string, repo: EventRepository) => {
    for (let i = 0; i < 50; i++) await repo.ingest(computer.id, batch());
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) await repo.ingest(computer.id, batch());
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    console.log(
      `${loc.name} ${label}: 500 batches x 20 events: wall ${wall.toFixed(0)} ms, cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (${(wall / 500).toFixed(2)} ms/batch)`,
    );
  };
  await run('without listeners (before)', plain);
  await run('with outbox listener, no forwarders', store.events);
  const none = await store.forwarders.create({
    name: 'n',
    type: 'syslog',
    settings: { protocol: 'udp', address: '127.0.0.1:9', format: 'cef' },
    filter: { modules: ['firewall'] },
  });
  await run('one forwarder whose filter takes nothing', store.events);
  await store.forwarders.delete(none.id);
  await store.forwarders.create({ name: 'f', type: 'syslog', settings: { protocol: 'udp', address: '127.0.0.1:9', format: 'cef' } });
  await run('with one forwarder (20 outbox rows per batch)', store.events);
  await p.close();
  await loc.cleanup();
}
console.log(
  'loadavg',
  (await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' '),
);
