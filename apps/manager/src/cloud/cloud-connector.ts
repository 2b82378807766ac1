import type { TenantStore } from '../store/tenant-store.ts';
import type { CloudAccount, CloudAuthType } from '../store/cloud-repository.ts';
import { type AwsClientOptions, type AwsClients, awsClients, type CloudAccountSecrets } from './aws-clients.ts';
import { SecretBox } from './secret-box.ts';

export interface CloudAccountCreate {
  name: string;
  authType: CloudAuthType;
  regions: string[];
  awsAccountId?: string;
  roleArn?: string;
  externalId?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  syncIntervalSeconds?: number;
  enabled?: boolean;
}

export class CloudAccountError extends Error {
  constructor(
    readonly code: 'CLOUD_ACCOUNT_INVALID' | 'CLOUD_ACCOUNT_NOT_FOUND' | 'CLOUD_AWS_ERROR',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Redacts anything that looks like an AWS secret from error text before it is stored or logged. */
export function redactAws(message: string): string {
  return message.replace(/(AKIA|ASIA)[A-Z0-9]{12,}/g, '$1…').replace(/[A-Za-z0-9/+]{40}/g, '[redacted]');
}

/**
 * The manager's gateway to cloud accounts: seals their secrets, builds SDK clients for an
 * account and region. One per manager process; holds no tenant state.
 */
export class CloudConnector {
  constructor(
    readonly box: SecretBox = SecretBox.random(),
    readonly awsOptions: AwsClientOptions = {},
  ) {}

  private context(store: TenantStore, accountId: string): string {
    return `${store.tenantId}:cloud-account:${accountId}`;
  }

  validate(input: CloudAccountCreate): void {
    const bad = (field: string, message: string) => new CloudAccountError('CLOUD_ACCOUNT_INVALID', message, field);
    if (input.authType === 'access-keys' && (!input.accessKeyId || !input.secretAccessKey))
      throw bad('secretAccessKey', 'access-keys accounts need accessKeyId and secretAccessKey');
    if (input.authType === 'assume-role' && !input.roleArn) throw bad('roleArn', 'assume-role accounts need roleArn');
    if (input.authType !== 'assume-role' && input.externalId) throw bad('externalId', 'externalId applies to assume-role accounts only');
    if (input.authType === 'instance-role' && (input.accessKeyId || input.secretAccessKey))
      throw bad('accessKeyId', 'instance-role accounts take no access keys');
    if (Boolean(input.accessKeyId) !== Boolean(input.secretAccessKey))
      throw bad('accessKeyId', 'give both accessKeyId and secretAccessKey, or neither');
    const m = input.roleArn && /^arn:aws[a-z-]*:iam::(\d{12}):role\/.+$/.exec(input.roleArn);
    if (input.roleArn && !m) throw bad('roleArn', 'roleArn must look like arn:aws:iam::123456789012:role/name');
    if (m && input.awsAccountId && m[1] !== input.awsAccountId)
      throw bad('awsAccountId', "awsAccountId differs from the role ARN's account");
  }

  async createAccount(store: TenantStore, input: CloudAccountCreate): Promise<CloudAccount> {
    this.validate(input);
    const roleAccount = input.roleArn ? input.roleArn.split(':')[4] : undefined;
    const account = await store.cloud.createAccount({
      name: input.name,
      authType: input.authType,
      regions: input.regions,
      awsAccountId: input.awsAccountId ?? roleAccount ?? null,
      roleArn: input.roleArn ?? null,
      accessKeyId: input.accessKeyId ?? null,
      encryptedSecrets: '',
      syncIntervalSeconds: input.syncIntervalSeconds ?? 300,
      enabled: input.enabled ?? true,
    });
    const secrets: CloudAccountSecrets = {
      ...(input.secretAccessKey ? { secretAccessKey: input.secretAccessKey } : {}),
      ...(input.externalId ? { externalId: input.externalId } : {}),
    };
    if (Object.keys(secrets).length === 0) return account;
    return store.cloud.updateAccount(account.id, { encryptedSecrets: this.box.seal(secrets, this.context(store, account.id)) });
  }

  async secretsOf(store: TenantStore, account: CloudAccount): Promise<CloudAccountSecrets> {
    const sealed = await store.cloud.encryptedSecrets(account.id);
    return sealed ? this.box.open<CloudAccountSecrets>(sealed, this.context(store, account.id)) : {};
  }

  async clients(store: TenantStore, account: CloudAccount, region: string): Promise<AwsClients> {
    return awsClients(account, await this.secretsOf(store, account), region, this.awsOptions);
  }

  /** An account by id or name; or the one whose AWS account id this is. */
  async resolveAccount(store: TenantStore, ref: { account?: string; awsAccountId?: string }): Promise<CloudAccount> {
    const a = ref.account
      ? await store.cloud.account(ref.account)
      : ref.awsAccountId
        ? await store.cloud.accountByAwsId(ref.awsAccountId)
        : undefined;
    if (!a)
      throw new CloudAccountError(
        'CLOUD_ACCOUNT_NOT_FOUND',
        ref.account ? `no cloud account ${ref.account}` : `no cloud account for AWS account ${ref.awsAccountId ?? '(unknown)'}`,
      );
    return a;
  }
}
