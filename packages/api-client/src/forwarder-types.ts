/** An event forwarder as the API returns it: settings and state, never secrets. */
export interface Forwarder {
  id: string;
  name: string;
  type: 'syslog' | 'webhook' | 'sns';
  settings: Record<string, unknown>;
  filter: ForwarderFilter;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** Names of the secrets that are set. */
  secretsSet: string[];
  delivery: { pending: number; failures: number; lastError: string | null; nextAttemptAt: string | null; lastSuccessAt: string | null };
}

export interface ForwarderFilter {
  modules?: string[];
  minSeverity?: string;
  types?: string[];
  groups?: string[];
}

export interface NewForwarder {
  name: string;
  type: Forwarder['type'];
  settings: Record<string, unknown>;
  secrets?: Record<string, string>;
  filter?: ForwarderFilter;
  enabled?: boolean;
}

export interface ForwarderTestResult {
  delivered: boolean;
  eventId: string;
  error?: string;
}
