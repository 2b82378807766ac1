import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { CloudAccount } from '../store/cloud-repository.ts';

/** What an account's sealed `secrets` column holds. */
export interface CloudAccountSecrets {
  secretAccessKey?: string;
  externalId?: string;
}

export interface AwsClientOptions {
  /**
   * One endpoint for every service (a loopback fake in tests, a VPC endpoint proxy); absent =
   * the public AWS endpoints. Deliberately not a per-account setting: an API user must not be
   * able to point the manager's signed requests at an arbitrary host.
   */
  endpoint?: string;
  maxAttempts?: number;
}

export interface AwsClients {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  wafv2: WAFV2Client;
  destroy(): void;
}

const ROLE_SESSION = 'palisade-manager';

type Credentials = NonNullable<EC2ClientConfig['credentials']>;
type CredentialIdentity = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };

/**
 * Credentials for an account: its access keys; the instance role (the SDK's default chain:
 * environment, then the metadata service); or a role assumed with either of those. Assumed
 * credentials are cached until five minutes before they expire.
 */
export function credentialsFor(account: CloudAccount, secrets: CloudAccountSecrets, opts: AwsClientOptions): Credentials | undefined {
  const keys =
    account.accessKeyId && secrets.secretAccessKey
      ? { accessKeyId: account.accessKeyId, secretAccessKey: secrets.secretAccessKey }
      : undefined;
  if (account.authType === 'access-keys') {
    if (!keys) throw new Error(`cloud account ${account.name} has no access keys`);
    return keys;
  }
  if (account.authType === 'instance-role') return undefined;
  if (!account.roleArn) throw new Error(`cloud account ${account.name} has no role ARN`);
  let cached: CredentialIdentity | undefined;
  const roleArn = account.roleArn;
  return async () => {
    if (cached?.expiration && cached.expiration.getTime() - Date.now() > 300_000) return cached;
    const sts = new STSClient({
      region: account.regions[0] ?? 'us-east-1',
      ...(keys ? { credentials: keys } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      maxAttempts: opts.maxAttempts ?? 3,
    });
    try {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: ROLE_SESSION,
          DurationSeconds: 3600,
          ...(secrets.externalId ? { ExternalId: secrets.externalId } : {}),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
      cached = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
      };
      return cached;
    } finally {
      sts.destroy();
    }
  };
}

/** The SDK v3 clients of one account in one region. */
export function awsClients(account: CloudAccount, secrets: CloudAccountSecrets, region: string, opts: AwsClientOptions = {}): AwsClients {
  const credentials = credentialsFor(account, secrets, opts);
  const config = {
    region,
    maxAttempts: opts.maxAttempts ?? 3,
    ...(credentials ? { credentials } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  };
  const ec2 = new EC2Client(config);
  const autoScaling = new AutoScalingClient(config);
  const wafv2 = new WAFV2Client(config);
  return {
    ec2,
    autoScaling,
    wafv2,
    destroy() {
      ec2.destroy();
      autoScaling.destroy();
      wafv2.destroy();
    },
  };
}
