/** An AWS account of the cloud connector; secrets go in, never out (`hasSecret`). */
export interface CloudAccount {
  id: string;
  name: string;
  provider: 'aws';
  authType: 'access-keys' | 'assume-role' | 'instance-role';
  awsAccountId: string | null;
  regions: string[];
  roleArn: string | null;
  accessKeyId: string | null;
  hasSecret: boolean;
  syncIntervalSeconds: number;
  enabled: boolean;
  lastSyncAt: string | null;
  lastSyncStatus: 'ok' | 'failed' | null;
  lastSyncError: string | null;
  lastSyncSummary: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewCloudAccount {
  name: string;
  authType: CloudAccount['authType'];
  regions: string[];
  awsAccountId?: string;
  roleArn?: string;
  externalId?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  syncIntervalSeconds?: number;
  enabled?: boolean;
}

export interface CloudInstance {
  instanceId: string;
  accountId: string;
  region: string;
  computerId: string | null;
  state: string;
  asgName: string | null;
  data: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
}

export interface CloudSyncSummary {
  accountId: string;
  awsAccountId: string | null;
  regions: Record<
    string,
    {
      instances: number;
      autoScalingGroups: number;
      discovered: string[];
      updated: number;
      retired: string[];
      asgsAdded: string[];
      asgsRemoved: string[];
    }
  >;
}
