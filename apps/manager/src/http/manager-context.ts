import type { CloudConnector } from '../cloud/cloud-connector.ts';
import type { PlaybookEngine } from '../playbooks/playbook-engine.ts';
import type { Counter, Registry } from 'prom-client';
import type { CommandNotifier } from '../services/command-notifier.ts';
import type { HeartbeatWriter } from '../services/heartbeat-writer.ts';
import type { PolicyChainCache } from '../services/policy-chain-cache.ts';
import type { RecommendationService } from '../recommendations/recommendation-service.ts';
import type { RuleCatalog } from '../recommendations/rule-catalog.ts';
import type { StoreProvider } from '../store/store-provider.ts';

export interface ManagerMetrics {
  registry: Registry;
  heartbeats: Counter;
  eventsIngested: Counter;
  activations: Counter;
}

/** What every route needs, created once by the manager's start-up and passed to each plugin. */
export interface ManagerContext {
  stores: StoreProvider;
  notifier: CommandNotifier;
  /** Heartbeats are written behind, in batches (see HeartbeatWriter). */
  heartbeats: HeartbeatWriter;
  /** Policy chains for the hot agent paths (heartbeat, config). */
  policyCache: PolicyChainCache;
  metrics: ManagerMetrics;
  recommendations: RecommendationService;
  catalog: RuleCatalog;
  /** Aborted when the manager shuts down, so held long-polls return at once. */
  closing: AbortSignal;
  /** Cloud accounts (AWS); absent on a manager without the connector. */
  cloud?: CloudConnector;
  /** Response playbooks: evaluated after events are stored. */
  playbooks?: PlaybookEngine;
  onEventsIngested?: (tenantId: string, computerId: string, count: number) => void;
}
