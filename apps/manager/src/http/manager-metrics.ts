import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ManagerMetrics } from './manager-context.ts';

export function createManagerMetrics(): ManagerMetrics & { requestDuration: Histogram } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'palisade_manager_' });
  return {
    registry,
    heartbeats: new Counter({ name: 'palisade_heartbeats_total', help: 'Agent heartbeats received', registers: [registry] }),
    eventsIngested: new Counter({
      name: 'palisade_events_ingested_total',
      help: 'Events stored (duplicates excluded)',
      registers: [registry],
    }),
    activations: new Counter({ name: 'palisade_activations_total', help: 'Agents activated', registers: [registry] }),
    requestDuration: new Histogram({
      name: 'palisade_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30],
      registers: [registry],
    }),
  };
}
