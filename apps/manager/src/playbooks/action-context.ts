import type { CloudConnector } from '../cloud/cloud-connector.ts';
import type { Computer } from '../store/computer-repository.ts';
import type { PlaybookSecrets } from '../store/playbook-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import type { PlaybookEvent } from './event-filter.ts';
import type { Playbook, PlaybookActionRecord } from './playbook-schema.ts';

/** What every action (and its undo) may use. */
export interface ActionDeps {
  store: TenantStore;
  connector: CloudConnector | undefined;
  /** Wakes the long-poll of a computer a command was queued for. */
  notify(computerId: string): void;
  now: Date;
  /** For webhooks; tests pass their own. */
  fetch?: typeof fetch;
}

/** One trigger of one playbook: the key that crossed the threshold and the event that did it. */
export interface TriggerContext extends ActionDeps {
  playbook: Playbook;
  runId: string;
  triggerKey: string;
  attacker: string | undefined;
  event: PlaybookEvent;
  computer: Computer | undefined;
  eventIds: string[];
  secrets: PlaybookSecrets;
  actionIndex: number;
}

export interface ActionOutcome {
  status: 'succeeded' | 'skipped';
  inputs: Record<string, unknown>;
  result: Record<string, unknown>;
  undoable: boolean;
  expiresAt: string | null;
}

export interface ActionHandler<A> {
  run(ctx: TriggerContext, action: A): Promise<ActionOutcome>;
  /** Reverses what `run` did, from what it recorded; absent = cannot be undone. */
  undo?(deps: ActionDeps, record: PlaybookActionRecord, reason: 'undo' | 'expiry'): Promise<Record<string, unknown>>;
}

/** An action that cannot do anything for this trigger (no attacker address, not an EC2 instance…). */
export class ActionSkipped extends Error {}

export function requireConnector(deps: ActionDeps): CloudConnector {
  if (!deps.connector) throw new Error('the cloud connector is not configured on this manager');
  return deps.connector;
}
