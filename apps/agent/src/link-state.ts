import { type AgentError, errorMessage, isAgentError } from './agent-error.ts';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'unauthorized';

export interface LinkStateSnapshot {
  state: ConnectionState;
  lastContactAt: string | null;
  lastError: { code: string; message: string; at: string } | null;
}

/** What the agent knows about its manager link, shared by heartbeat, poller and sender. */
export class LinkState {
  private state: ConnectionState = 'connecting';
  private lastContactAt: string | null = null;
  private lastError: LinkStateSnapshot['lastError'] = null;

  ok(): void {
    this.state = 'connected';
    this.lastContactAt = new Date().toISOString();
  }

  failed(err: unknown): void {
    const code = isAgentError(err) ? (err as AgentError).code : 'AGENT_INTERNAL';
    this.state = code === 'AGENT_UNAUTHORIZED' ? 'unauthorized' : 'disconnected';
    this.lastError = { code, message: errorMessage(err), at: new Date().toISOString() };
  }

  snapshot(): LinkStateSnapshot {
    return { state: this.state, lastContactAt: this.lastContactAt, lastError: this.lastError };
  }
}
