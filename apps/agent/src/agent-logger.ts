import { pino } from 'pino';

/** The subset of pino's API the agent and its modules use, so tests can pass a recorder. */
export interface AgentLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): AgentLogger;
}

export function createAgentLogger(level: string = process.env.PALISADE_AGENT_LOG_LEVEL ?? 'info'): AgentLogger {
  return pino({ name: 'palisade-agent', level });
}

export function silentLogger(): AgentLogger {
  return pino({ level: 'silent' });
}
