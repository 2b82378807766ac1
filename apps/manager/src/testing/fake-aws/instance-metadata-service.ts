import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeAwsState } from './fake-aws-state.ts';

export interface FakeImds {
  /** Pass as `AWS_EC2_METADATA_SERVICE_ENDPOINT` (or the agent's metadata URL). */
  endpoint: string;
  /** Every request as `METHOD path status`, for assertions. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * The EC2 instance metadata service (IMDSv2 only, as on instances launched with
 * `HttpTokens=required`) of one instance of the fake AWS state, on loopback. It answers from the
 * state at request time, so what the "instance" sees is what the fake EC2 and Auto Scaling APIs
 * say about it: identity document, instance id, MAC, VPC, subnet, security group names, and
 * (with `instanceMetadataTags`, off by default as on EC2) its tags, among them
 * `aws:autoscaling:groupName`.
 *
 * IMDSv2 as AWS documents it: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds`
 * (1-21600) returns a session token; a PUT carrying `X-Forwarded-For` is refused (403, so a
 * proxy cannot fetch tokens); a GET without a valid, unexpired token is 401.
 */
export async function startFakeImds(
  state: FakeAwsState,
  opts: { region: string; accountId: string; instanceId: string; instanceMetadataTags?: boolean; now?: () => number },
): Promise<FakeImds> {
  const now = opts.now ?? Date.now;
  const tokens = new Map<string, number>();
  const requests: string[] = [];
  const mac = '0e:49:61:0f:c3:11';

  const answer = (path: string): string | undefined => {
    const inst = state.region(opts.region).instances.get(opts.instanceId);
    if (!inst || inst.state === 'terminated') return undefined;
    const groups = inst.securityGroupIds.map((id) => state.region(opts.region).securityGroups.get(id)?.groupName ?? id);
    const tags = new Map(inst.tags.map((t) => [t.key, t.value]));
    const macs = `/latest/meta-data/network/interfaces/macs/${mac}`;
    switch (path) {
      case '/latest/dynamic/instance-identity/document':
        return JSON.stringify(
          {
            accountId: opts.accountId,
            architecture: 'x86_64',
            availabilityZone: `${opts.region}a`,
            billingProducts: null,
            devpayProductCodes: null,
            marketplaceProductCodes: null,
            imageId: inst.imageId,
            instanceId: inst.instanceId,
            instanceType: inst.instanceType,
            kernelId: null,
            pendingTime: inst.launchTime,
            privateIp: inst.privateIp,
            ramdiskId: null,
            region: opts.region,
            version: '2017-09-30',
          },
          null,
          2,
        );
      case '/latest/meta-data/instance-id':
        return inst.instanceId;
      case '/latest/meta-data/ami-id':
        return inst.imageId;
      case '/latest/meta-data/local-ipv4':
        return inst.privateIp;
      case '/latest/meta-data/mac':
        return mac;
      case `${macs}/vpc-id`:
        return inst.vpcId;
      case `${macs}/subnet-id`:
        return inst.subnetId;
      case '/latest/meta-data/security-groups':
        return groups.join('\n');
    }
    if (opts.instanceMetadataTags) {
      if (path === '/latest/meta-data/tags/instance') return [...tags.keys()].join('\n');
      const prefix = '/latest/meta-data/tags/instance/';
      if (path.startsWith(prefix)) return tags.get(decodeURIComponent(path.slice(prefix.length)));
    }
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const reply = (status: number, body = '') => {
      requests.push(`${req.method} ${path} ${status}`);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    };
    req.resume();
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return reply(405);
      if (req.headers['x-forwarded-for'] !== undefined) return reply(403);
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return reply(400);
      const token = randomBytes(32).toString('base64url');
      tokens.set(token, now() + ttl * 1000);
      return reply(200, token);
    }
    if (req.method !== 'GET') return reply(405);
    const token = String(req.headers['x-aws-ec2-metadata-token'] ?? '');
    const expires = tokens.get(token);
    if (expires === undefined || expires <= now()) return reply(401);
    const body = answer(path);
    return body === undefined ? reply(404) : reply(200, body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
