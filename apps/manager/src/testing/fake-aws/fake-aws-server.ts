import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { autoScalingService } from './autoscaling-service.ts';
import { ec2Service } from './ec2-service.ts';
import { FakeAwsError } from './fake-aws-error.ts';
import { FakeAwsState } from './fake-aws-state.ts';
import { parseQueryBody } from './query-params.ts';
import { type IssuedCredentials, stsService } from './sts-service.ts';
import { wafv2Service } from './wafv2-service.ts';

/** One API call as the fake received it: what tests assert on. */
export interface FakeAwsCall {
  service: string;
  action: string;
  region: string;
  /** The access key id from the SigV4 Authorization header. */
  accessKeyId: string | undefined;
  /** Query parameters (without Action/Version) or the JSON body. */
  params: Record<string, unknown>;
  /** The error code answered, if the call failed. */
  error?: string;
}

/**
 * Another service plugged into the same endpoint (e.g. SNS). Return true when the request was
 * answered; `body` is the raw request body.
 */
export type FakeAwsExtraHandler = (
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
  call: (c: FakeAwsCall) => void,
) => boolean | Promise<boolean>;

export interface FakeAws {
  /** Pass as the SDK client's `endpoint`. */
  endpoint: string;
  state: FakeAwsState;
  calls: FakeAwsCall[];
  issuedCredentials: IssuedCredentials[];
  accountId: string;
  /** Calls of one service (and action), for assertions. */
  callsOf(service: string, action?: string): FakeAwsCall[];
  /** Makes the next matching calls fail with this code (for retry and failure tests). */
  failNext(service: string, action: string, code: string, times?: number): void;
  close(): Promise<void>;
}

const QUERY_VERSIONS: Record<string, string> = { '2016-11-15': 'ec2', '2011-01-01': 'autoscaling', '2011-06-15': 'sts' };

/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, …` */
function credentialScope(auth: string | undefined): { accessKeyId?: string; region?: string } {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\//.exec(auth ?? '');
  return m ? { accessKeyId: m[1]!, region: m[2]! } : {};
}

function queryError(service: string, code: string, message: string, requestId: string): string {
  const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  if (service === 'ec2')
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

/**
 * A loopback AWS endpoint speaking the real wire protocols: EC2 (EC2 Query, XML), Auto Scaling
 * and STS (Query, XML), WAFv2 (JSON 1.1 routed by X-Amz-Target). The region comes from the SigV4
 * credential scope, so one endpoint serves every region. Signatures are not verified.
 */
export async function startFakeAws(opts: { accountId?: string; extraHandler?: FakeAwsExtraHandler } = {}): Promise<FakeAws> {
  const accountId = opts.accountId ?? '123456789012';
  const state = new FakeAwsState();
  const calls: FakeAwsCall[] = [];
  const issued: IssuedCredentials[] = [];
  const failures: { service: string; action: string; code: string; times: number }[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((err) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
  });

  async function handle(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const { accessKeyId, region = 'us-east-1' } = credentialScope(req.headers.authorization);
    const target = req.headers['x-amz-target'];
    const base = { region, accessKeyId };
    const injected = (service: string, action: string) => {
      const f = failures.find((x) => x.service === service && x.action === action && x.times > 0);
      if (f) f.times--;
      return f?.code;
    };

    if (typeof target === 'string' && target.startsWith('AWSWAF_20190729.')) {
      const action = target.slice('AWSWAF_20190729.'.length);
      let params: Record<string, unknown> = {};
      try {
        params = JSON.parse(body || '{}');
      } catch {}
      const call: FakeAwsCall = { service: 'wafv2', action, ...base, params };
      calls.push(call);
      try {
        const code = injected('wafv2', action);
        if (code) throw new FakeAwsError(code, 'injected failure', code === 'WAFInternalErrorException' ? 500 : 400);
        const out = wafv2Service(state, region, accountId, action, params);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
        res.end(JSON.stringify(out));
      } catch (err) {
        if (!(err instanceof FakeAwsError)) throw err;
        call.error = err.code;
        res.writeHead(err.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
        res.end(JSON.stringify({ __type: err.code, Message: err.message }));
      }
      return;
    }

    const p = parseQueryBody(body);
    const service = QUERY_VERSIONS[p.get('Action') ? (p.get('Version') ?? '') : ''];
    if (!service) {
      const record = (c: FakeAwsCall) => calls.push(c);
      if (opts.extraHandler && (await opts.extraHandler(req, body, res, record))) return;
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(queryError('', 'UnknownService', 'the fake AWS endpoint does not serve this request', requestId));
      return;
    }
    const action = p.get('Action')!;
    p.delete('Action');
    p.delete('Version');
    const call: FakeAwsCall = { service, action, ...base, params: Object.fromEntries(p) };
    calls.push(call);
    try {
      const code = injected(service, action);
      if (code) throw new FakeAwsError(code, 'injected failure', code.includes('Internal') || code === 'Unavailable' ? 500 : 400);
      const xml =
        service === 'ec2'
          ? ec2Service(state, region, accountId, action, p, requestId)
          : service === 'autoscaling'
            ? autoScalingService(state, region, accountId, action, p, requestId)
            : stsService(state, accountId, issued, accessKeyId, action, p, requestId);
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(xml);
    } catch (err) {
      if (!(err instanceof FakeAwsError)) throw err;
      call.error = err.code;
      res.writeHead(err.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(queryError(service, err.code, err.message, requestId));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    state,
    calls,
    issuedCredentials: issued,
    accountId,
    callsOf: (service, action) => calls.filter((c) => c.service === service && (!action || c.action === action)),
    failNext: (service, action, code, times = 1) => failures.push({ service, action, code, times }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
