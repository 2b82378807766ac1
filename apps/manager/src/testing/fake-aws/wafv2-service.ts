import { isIP } from 'node:net';
import { FakeAwsError } from './fake-aws-error.ts';
import type { FakeAwsState, FakeIpSet } from './fake-aws-state.ts';

type Json = Record<string, unknown>;

function validCidr(s: unknown, version: FakeIpSet['ipAddressVersion']): boolean {
  if (typeof s !== 'string') return false;
  const [addr, bits, ...rest] = s.split('/');
  if (rest.length || !addr || bits === undefined || !/^\d+$/.test(bits)) return false;
  const v = isIP(addr);
  return version === 'IPV4' ? v === 4 && Number(bits) >= 1 && Number(bits) <= 32 : v === 6 && Number(bits) >= 1 && Number(bits) <= 128;
}

/** WAFv2 IP sets over JSON 1.1 with optimistic locking, as the real service answers them. */
export function wafv2Service(state: FakeAwsState, region: string, accountId: string, operation: string, body: Json): Json {
  const scope = body.Scope;
  if (scope !== 'REGIONAL' && scope !== 'CLOUDFRONT')
    throw new FakeAwsError('WAFInvalidParameterException', 'Scope must be REGIONAL or CLOUDFRONT');
  // CloudFront resources live in us-east-1 only; the real API refuses the scope elsewhere.
  if (scope === 'CLOUDFRONT' && region !== 'us-east-1')
    throw new FakeAwsError('WAFInvalidParameterException', 'The scope CLOUDFRONT is only valid in us-east-1');
  const sets = [...state.region(region).ipSets.values()].filter((s) => s.scope === scope);
  const arn = (s: FakeIpSet) =>
    `arn:aws:wafv2:${region}:${accountId}:${scope === 'CLOUDFRONT' ? 'global' : 'regional'}/ipset/${s.name}/${s.id}`;
  const find = (): FakeIpSet => {
    const s = sets.find((x) => x.id === body.Id && x.name === body.Name);
    if (!s)
      throw new FakeAwsError('WAFNonexistentItemException', "AWS WAF couldn't perform the operation because your resource doesn't exist.");
    return s;
  };
  switch (operation) {
    case 'ListIPSets': {
      const limit = typeof body.Limit === 'number' ? body.Limit : 100;
      const start = typeof body.NextMarker === 'string' ? Number(body.NextMarker) : 0;
      const page = sets.slice(start, start + limit);
      return {
        IPSets: page.map((s) => ({ Name: s.name, Id: s.id, Description: s.description, LockToken: s.lockToken, ARN: arn(s) })),
        ...(start + limit < sets.length ? { NextMarker: String(start + limit) } : {}),
      };
    }
    case 'GetIPSet': {
      const s = find();
      return {
        IPSet: {
          Name: s.name,
          Id: s.id,
          ARN: arn(s),
          Description: s.description,
          IPAddressVersion: s.ipAddressVersion,
          Addresses: [...s.addresses],
        },
        LockToken: s.lockToken,
      };
    }
    case 'UpdateIPSet': {
      const s = find();
      if (body.LockToken !== s.lockToken)
        throw new FakeAwsError(
          'WAFOptimisticLockException',
          "AWS WAF couldn't save your changes because you tried to update or delete a resource that has changed since you last retrieved it.",
        );
      const addresses = body.Addresses;
      if (!Array.isArray(addresses) || addresses.length > 10_000 || !addresses.every((a) => validCidr(a, s.ipAddressVersion)))
        throw new FakeAwsError('WAFInvalidParameterException', "Addresses must be CIDRs of the set's IP version");
      s.addresses = [...(addresses as string[])];
      if (typeof body.Description === 'string') s.description = body.Description;
      s.lockToken = state.nextId('lock');
      return { NextLockToken: s.lockToken };
    }
    default:
      throw new FakeAwsError('UnknownOperationException', `unknown operation ${operation}`);
  }
}
