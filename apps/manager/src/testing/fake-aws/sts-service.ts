import { FakeAwsError } from './fake-aws-error.ts';
import type { FakeAwsState } from './fake-aws-state.ts';
import { el, type QueryParams } from './query-params.ts';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Temporary credentials handed out by AssumeRole, so tests can see later calls use them. */
export interface IssuedCredentials {
  roleArn: string;
  externalId: string | undefined;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** STS AssumeRole and GetCallerIdentity (the account check of `cloud-accounts test`). */
export function stsService(
  state: FakeAwsState,
  accountId: string,
  issued: IssuedCredentials[],
  callerKey: string | undefined,
  action: string,
  p: QueryParams,
  requestId: string,
): string {
  const wrap = (result: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></${action}Response>`;
  switch (action) {
    case 'AssumeRole': {
      const roleArn = p.get('RoleArn') ?? '';
      if (!/^arn:aws:iam::\d{12}:role\/.+/.test(roleArn)) throw new FakeAwsError('ValidationError', `invalid RoleArn ${roleArn}`);
      const creds: IssuedCredentials = {
        roleArn,
        externalId: p.get('ExternalId'),
        accessKeyId: `ASIA${state.nextId('', 15).slice(1).toUpperCase()}`,
        secretAccessKey: `assumed-secret-${issued.length}`,
        sessionToken: `assumed-session-${issued.length}`,
      };
      issued.push(creds);
      return wrap(
        `<Credentials>${el('AccessKeyId', creds.accessKeyId)}${el('SecretAccessKey', creds.secretAccessKey)}${el('SessionToken', creds.sessionToken)}${el('Expiration', new Date(Date.now() + 3600_000).toISOString())}</Credentials>` +
          `<AssumedRoleUser>${el('Arn', `${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${p.get('RoleSessionName') ?? 's'}`)}${el('AssumedRoleId', 'AROAFAKE:session')}</AssumedRoleUser>`,
      );
    }
    case 'GetCallerIdentity': {
      const assumed = issued.find((c) => c.accessKeyId === callerKey);
      const arn = assumed ? assumed.roleArn : `arn:aws:iam::${accountId}:user/palisade`;
      return wrap(
        `${el('UserId', callerKey ?? 'anonymous')}${el('Account', assumed ? assumed.roleArn.split(':')[4] : accountId)}${el('Arn', arn)}`,
      );
    }
    default:
      throw new FakeAwsError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
  }
}
