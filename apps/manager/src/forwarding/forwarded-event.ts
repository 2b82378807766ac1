import type { AgentEvent } from '@palisade/protocol';

/**
 * One event as it leaves the manager: the agent's event plus what a SIEM needs to know about
 * where it came from. It is copied into the outbox when the event is stored, so a forwarder
 * delivers what was true then even if the computer is renamed or the event purged later.
 */
export interface ForwardedEvent extends AgentEvent {
  tenantId: string;
  computerId: string;
  hostname: string;
  group: string | null;
  ips: string[];
  /** Cloud instance id when the computer is a cloud instance. */
  instanceId: string | null;
  receivedAt: string;
}
