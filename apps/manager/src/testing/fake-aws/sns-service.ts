import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Amazon SNS on loopback, speaking the service's real wire protocol: AWS Query requests
 * (form-encoded `Action=...&Version=2010-03-31`) signed with Signature Version 4, answered with
 * SNS's XML documents and error shapes. Pass `endpoint` to the SDK client. Only what Palisade
 * uses is implemented (CreateTopic, Publish, ListTopics); every request's signature is checked
 * against the configured credentials, so a wrong key fails as it would in AWS.
 */

export interface PublishedMessage {
  topicArn: string;
  message: string;
  subject?: string;
  messageId: string;
  /** Access key id of the signer. */
  accessKeyId: string;
  region: string;
  /** FIFO topics only. */
  groupId?: string;
  deduplicationId?: string;
}

export interface FakeSns {
  endpoint: string;
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  published: PublishedMessage[];
  /** Every request's Action, in order. */
  actions: string[];
  createTopic(name: string): string;
  /** While false, every request fails with HTTP 503 ServiceUnavailable (an outage). */
  setAvailable(available: boolean): void;
  close(): Promise<void>;
}

const NS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const MAX_MESSAGE_BYTES = 262_144;

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

class SnsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/** Checks an AWS Signature Version 4 `Authorization` header; returns the signer's key id and region. */
function verifySigV4(req: IncomingMessage, body: Buffer, secrets: Map<string, string>): { accessKeyId: string; region: string } {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([0-9]{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) throw new SnsError(403, 'IncompleteSignature', 'Authorization header is missing or malformed');
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  const secret = secrets.get(accessKeyId!);
  if (!secret) throw new SnsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  if (service !== 'sns') throw new SnsError(403, 'SignatureDoesNotMatch', `credential scope names service ${service}`);
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date!)) throw new SnsError(403, 'SignatureDoesNotMatch', 'x-amz-date does not match the credential scope');
  const url = new URL(req.url ?? '/', 'http://x');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names
    .map((n) => {
      const v = req.headers[n];
      return `${n}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? sha256(body));
  const canonicalRequest = [req.method, url.pathname || '/', query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected !== signature) {
    throw new SnsError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { accessKeyId: accessKeyId!, region: region! };
}

export async function startFakeSns(
  opts: { region?: string; accountId?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {},
): Promise<FakeSns> {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '123456789012';
  const credentials = opts.credentials ?? {
    accessKeyId: 'AKIAFAKESNS000000001',
    secretAccessKey: 'fake-sns-secret-key/0123456789abcdefghij',
  };
  const secrets = new Map([[credentials.accessKeyId, credentials.secretAccessKey]]);
  const topics = new Set<string>();
  const published: PublishedMessage[] = [];
  const actions: string[] = [];
  let available = true;

  const topicArn = (name: string) => `arn:aws:sns:${region}:${accountId}:${name}`;

  const reply = (res: ServerResponse, status: number, xml: string) => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(`<?xml version="1.0"?>\n${xml}`);
  };
  const errorXml = (e: SnsError) =>
    `<ErrorResponse xmlns="${NS}"><Error><Type>${e.type}</Type><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;

  const handle = (req: IncomingMessage, body: Buffer): { status: number; xml: string } => {
    if (!available) throw new SnsError(503, 'ServiceUnavailable', 'Service is unavailable', 'Receiver');
    if (req.method !== 'POST') throw new SnsError(400, 'InvalidAction', 'SNS Query requests are POSTed');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      throw new SnsError(400, 'MalformedQueryString', 'expected application/x-www-form-urlencoded');
    const signer = verifySigV4(req, body, secrets);
    if (signer.region !== region)
      throw new SnsError(403, 'SignatureDoesNotMatch', `credential scope region ${signer.region} is not ${region}`);
    const p = new URLSearchParams(body.toString('utf8'));
    const action = p.get('Action') ?? '';
    actions.push(action);
    if (p.get('Version') !== '2010-03-31') throw new SnsError(400, 'InvalidParameter', 'Version must be 2010-03-31');
    const requestId = `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
    switch (action) {
      case 'CreateTopic': {
        const name = p.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Topic Name');
        topics.add(topicArn(name));
        return {
          status: 200,
          xml: `<CreateTopicResponse xmlns="${NS}"><CreateTopicResult><TopicArn>${xmlEscape(topicArn(name))}</TopicArn></CreateTopicResult>${requestId}</CreateTopicResponse>`,
        };
      }
      case 'ListTopics': {
        const members = [...topics].map((t) => `<member><TopicArn>${xmlEscape(t)}</TopicArn></member>`).join('');
        return {
          status: 200,
          xml: `<ListTopicsResponse xmlns="${NS}"><ListTopicsResult><Topics>${members}</Topics></ListTopicsResult>${requestId}</ListTopicsResponse>`,
        };
      }
      case 'Publish': {
        const arn = p.get('TopicArn') ?? p.get('TargetArn') ?? '';
        const message = p.get('Message');
        if (message === null || message === '') throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Empty message');
        if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES)
          throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
        if (!topics.has(arn)) throw new SnsError(404, 'NotFound', 'Topic does not exist');
        const groupId = p.get('MessageGroupId');
        const dedupId = p.get('MessageDeduplicationId');
        if (arn.endsWith('.fifo')) {
          if (!groupId)
            throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
          // Content-based deduplication is off on this fake's topics: the id is required.
          if (!dedupId)
            throw new SnsError(
              400,
              'InvalidParameter',
              'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
            );
          const seen = published.find((m) => m.topicArn === arn && m.deduplicationId === dedupId);
          if (seen)
            return {
              status: 200,
              xml: `<PublishResponse xmlns="${NS}"><PublishResult><MessageId>${seen.messageId}</MessageId></PublishResult>${requestId}</PublishResponse>`,
            };
        } else if (groupId) {
          throw new SnsError(
            400,
            'InvalidParameter',
            'Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type',
          );
        }
        const messageId = randomUUID();
        const subject = p.get('Subject');
        published.push({
          topicArn: arn,
          message,
          messageId,
          accessKeyId: signer.accessKeyId,
          region: signer.region,
          ...(subject ? { subject } : {}),
          ...(groupId ? { groupId } : {}),
          ...(dedupId ? { deduplicationId: dedupId } : {}),
        });
        return {
          status: 200,
          xml: `<PublishResponse xmlns="${NS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>${requestId}</PublishResponse>`,
        };
      }
      default:
        throw new SnsError(400, 'InvalidAction', `The action ${action} is not valid for this endpoint.`);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const { status, xml } = handle(req, Buffer.concat(chunks));
        reply(res, status, xml);
      } catch (err) {
        const e = err instanceof SnsError ? err : new SnsError(500, 'InternalError', (err as Error).message, 'Receiver');
        reply(res, e.status, errorXml(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    accountId,
    credentials,
    published,
    actions,
    createTopic: (name) => {
      topics.add(topicArn(name));
      return topicArn(name);
    },
    setAvailable: (a) => {
      available = a;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
