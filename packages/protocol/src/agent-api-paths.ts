/**
 * The agent-facing HTTP API of the manager. Everything but activation is authenticated with the
 * agent's own credentials: `Authorization: Agent <agentId>:<agentSecret>`.
 */
export const AGENT_API = {
  activate: '/api/agent/v1/activate',
  heartbeat: '/api/agent/v1/heartbeat',
  config: '/api/agent/v1/config',
  events: '/api/agent/v1/events',
  /** Long-poll: `?waitSeconds=N` (at most 30) holds the request until a command is queued. */
  commands: '/api/agent/v1/commands',
  commandResult: (id: string) => `/api/agent/v1/commands/${encodeURIComponent(id)}/result`,
  inventory: '/api/agent/v1/inventory',
} as const;

export const PROTOCOL_VERSION = 1;

export function agentAuthorization(agentId: string, agentSecret: string): string {
  return `Agent ${agentId}:${agentSecret}`;
}
