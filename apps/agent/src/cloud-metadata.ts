import http from 'node:http';
import type { CloudMetadata } from '@palisade/protocol';

export const CLOUD_PROVIDERS = ['aws'] as const;
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];

export interface CloudMetadataOptions {
  /**
   * The instance metadata service; the link-local address on EC2, a loopback server in tests.
   * Default: `AWS_EC2_METADATA_SERVICE_ENDPOINT` (the variable the AWS SDKs and CLI honour), else
   * http://169.254.169.254.
   */
  baseUrl?: string;
  /** Per request: the service answers in milliseconds on EC2, so a slow answer means "not here". */
  timeoutMs?: number;
}

interface Reply {
  status: number;
  body: string;
}

function imdsRequest(url: URL, method: 'GET' | 'PUT', headers: Record<string, string>, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // no keep-alive agent and no proxy: the metadata service must be reached directly
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 64 * 1024) req.destroy(new Error('metadata answer too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('metadata service timeout')));
    req.on('error', reject);
    req.end();
  });
}

const clip = (s: string | undefined, max = 255): string | undefined => (s ? s.trim().slice(0, max) || undefined : undefined);

/**
 * Reads what an EC2 instance can see about itself through IMDSv2 (session token first, as
 * instances that require v2 refuse plain GETs): account, region, instance, image, VPC, subnet,
 * security groups, and the Auto Scaling group when instance tags are exposed to the metadata
 * service. Returns undefined when there is no metadata service.
 */
export async function fetchAwsMetadata(options: CloudMetadataOptions = {}): Promise<CloudMetadata | undefined> {
  const base = options.baseUrl ?? (process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT || 'http://169.254.169.254');
  const timeoutMs = options.timeoutMs ?? 1_000;
  let token: string;
  try {
    const res = await imdsRequest(new URL('/latest/api/token', base), 'PUT', { 'x-aws-ec2-metadata-token-ttl-seconds': '300' }, timeoutMs);
    if (res.status !== 200 || !res.body) return undefined;
    token = res.body.trim();
  } catch {
    return undefined;
  }
  const get = async (path: string): Promise<string | undefined> => {
    try {
      const res = await imdsRequest(new URL(path, base), 'GET', { 'x-aws-ec2-metadata-token': token }, timeoutMs);
      return res.status === 200 ? res.body : undefined;
    } catch {
      return undefined;
    }
  };
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse((await get('/latest/dynamic/instance-identity/document')) ?? '{}');
  } catch {
    // keep going: the rest of the metadata is still worth reporting
  }
  const str = (v: unknown) => (typeof v === 'string' ? clip(v) : undefined);
  const mac = clip(await get('/latest/meta-data/mac'), 64);
  const [vpcId, subnetId, groups, asg] = await Promise.all([
    mac ? get(`/latest/meta-data/network/interfaces/macs/${mac}/vpc-id`) : undefined,
    mac ? get(`/latest/meta-data/network/interfaces/macs/${mac}/subnet-id`) : undefined,
    get('/latest/meta-data/security-groups'),
    get('/latest/meta-data/tags/instance/aws:autoscaling:groupName'),
  ]);
  const meta: CloudMetadata = { provider: 'aws' };
  const set = <K extends keyof CloudMetadata>(k: K, v: CloudMetadata[K] | undefined) => {
    if (v !== undefined) meta[k] = v;
  };
  set('accountId', str(doc.accountId));
  set('region', str(doc.region));
  set('instanceId', str(doc.instanceId) ?? clip(await get('/latest/meta-data/instance-id')));
  set('imageId', str(doc.imageId));
  set('vpcId', clip(vpcId));
  set('subnetId', clip(subnetId));
  const sg = (groups ?? '')
    .split('\n')
    .map((g) => g.trim())
    .filter(Boolean)
    .slice(0, 50)
    .map((g) => g.slice(0, 255));
  if (sg.length > 0) meta.securityGroups = sg;
  set('autoScalingGroup', clip(asg));
  return meta;
}

export function fetchCloudMetadata(provider: CloudProvider, options: CloudMetadataOptions = {}): Promise<CloudMetadata | undefined> {
  switch (provider) {
    case 'aws':
      return fetchAwsMetadata(options);
  }
}
