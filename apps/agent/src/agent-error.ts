/**
 * Every failure the agent reports to a person or a script carries a stable code (listed in
 * docs/errors/agent.md), so the CLI can print `error CODE: message` and callers can branch on
 * the code instead of parsing prose.
 */
export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

export function isAgentError(err: unknown): err is AgentError {
  return err instanceof AgentError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
