import type { ModuleStatus } from '@palisade/protocol';
import type { ConfigError } from './config-updater.ts';
import type { SpoolCounters } from './event-spool.ts';
import type { HeartbeatSnapshot } from './heartbeat-loop.ts';
import type { LinkStateSnapshot } from './link-state.ts';

/** What `palisade agent status` shows: everything a person needs to tell whether the agent works. */
export interface AgentStatusReport {
  agentId: string;
  tenantId: string;
  managerUrl: string;
  dataDir: string;
  agentVersion: string;
  pid: number;
  startedAt: string;
  connection: LinkStateSnapshot;
  lastHeartbeat: HeartbeatSnapshot | null;
  heartbeatSeconds: number;
  configHash: string;
  lastConfigError: ConfigError | null;
  modules: Record<string, ModuleStatus>;
  spool: SpoolCounters;
  sender: { batchesSent: number; eventsAcked: number; failures: number };
}
