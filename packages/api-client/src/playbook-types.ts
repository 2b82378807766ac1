/** A response playbook as the API shows it (webhook secrets are never returned). */
export interface PlaybookTrigger {
  filter: {
    modules?: string[];
    types?: string[];
    minSeverity?: string;
    ruleIds?: string[];
    computerIds?: string[];
    computerTags?: Record<string, string>;
  };
  threshold?: number;
  windowSeconds?: number;
  groupBy?: 'attacker' | 'computer';
}

export type PlaybookTargets = 'source' | { computerIds: string[] } | { smartFolderId: string };

export type PlaybookAction =
  | {
      type: 'aws-waf-block-ip';
      cloudAccount: string;
      region: string;
      scope: 'REGIONAL' | 'CLOUDFRONT';
      ipSetName: string;
      ipSetId?: string;
      ipv6IpSetName?: string;
      ipv6IpSetId?: string;
      durationSeconds?: number;
    }
  | { type: 'firewall-block-ip'; targets: PlaybookTargets; durationSeconds: number }
  | {
      type: 'aws-isolate-instance';
      cloudAccount?: string;
      isolationGroupName?: string;
      detachFromAutoScalingGroup?: boolean;
      snapshot?: boolean;
    }
  | { type: 'webhook'; url: string; secret?: string }
  | { type: 'run-scan'; targets: PlaybookTargets; paths?: string[] };

export interface NewPlaybook {
  name: string;
  description?: string;
  enabled?: boolean;
  trigger: PlaybookTrigger;
  actions: PlaybookAction[];
  safeguards?: { allowList?: string[]; maxRunsPerHour?: number };
}

export interface Playbook extends Required<Omit<NewPlaybook, 'safeguards'>> {
  id: string;
  safeguards: { allowList: string[]; maxRunsPerHour: number };
  createdAt: string;
  updatedAt: string;
}

export interface PlaybookActionRecord {
  id: string;
  playbookId: string;
  runId: string;
  triggerKey: string;
  actionIndex: number;
  actionType: string;
  status: 'succeeded' | 'failed' | 'skipped' | 'rate-limited' | 'undoing' | 'undone' | 'expired' | 'undo-failed';
  inputs: Record<string, unknown>;
  result: Record<string, unknown>;
  error: string | null;
  computerId: string | null;
  eventIds: string[];
  createdAt: string;
  expiresAt: string | null;
  undoneAt: string | null;
  undoResult: Record<string, unknown> | null;
  undoable: boolean;
}
