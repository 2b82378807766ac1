import http from 'node:http';
import https from 'node:https';
import { agentAuthorization } from '@palisade/protocol';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { AgentError } from './agent-error.ts';

export interface AgentCredentials {
  agentId: string;
  agentSecret: string;
}

export interface ManagerClientOptions {
  managerUrl: string;
  /** PEM of the manager's CA; without it the system trust store is used. */
  ca?: string;
  credentials?: AgentCredentials;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResult {
  status: number;
  body: unknown;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Node's codes for certificate problems: these need a person (wrong --ca), not a retry. */
const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export function parseManagerUrl(managerUrl: string): URL {
  let url: URL;
  try {
    url = new URL(managerUrl);
  } catch {
    throw new AgentError('AGENT_BAD_MANAGER_URL', `not a URL: ${JSON.stringify(managerUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AgentError('AGENT_BAD_MANAGER_URL', `manager URL must be https:// or http://, got ${url.protocol}`);
  }
  return url;
}

/**
 * The agent's side of the manager link. One keep-alive pool per client so that heartbeats,
 * event batches and the command long-poll reuse TLS sessions instead of handshaking each time.
 */
export class ManagerClient {
  private readonly base: URL;
  private readonly pool: http.Agent;
  private readonly auth: string | undefined;

  constructor(readonly options: ManagerClientOptions) {
    this.base = parseManagerUrl(options.managerUrl);
    this.pool =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: options.ca, maxSockets: 8 })
        : new http.Agent({ keepAlive: true, maxSockets: 8 });
    this.auth = options.credentials
      ? agentAuthorization(options.credentials.agentId, options.credentials.agentSecret)
      : undefined;
  }

  get managerUrl(): string {
    return this.options.managerUrl;
  }

  /**
   * One request. A request that fails with a reset on a reused keep-alive socket is sent once
   * more on a fresh one: the server closed that idle socket just as we picked it, which is not
   * an outage (Node's documented pattern, `req.reusedSocket`). Every agent request is safe to
   * repeat: events and results are idempotent by id, heartbeats and polls are reads or overwrites.
   */
  async request(method: 'GET' | 'POST', path: string, body?: unknown, opts: RequestOptions = {}): Promise<HttpResult> {
    try {
      return await this.send(method, path, body, opts);
    } catch (err) {
      if (err instanceof AgentError && err.details.staleSocket) return this.send(method, path, body, opts);
      throw err;
    }
  }

  private send(method: 'GET' | 'POST', path: string, body: unknown, opts: RequestOptions): Promise<HttpResult> {
    const url = new URL(this.base.toString());
    const [pathname, search] = path.split('?', 2);
    url.pathname = this.base.pathname.replace(/\/$/, '') + pathname;
    url.search = search ? `?${search}` : '';
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (this.auth) headers.authorization = this.auth;
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const transport = url.protocol === 'https:' ? https : http;

    return new Promise<HttpResult>((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new AgentError('AGENT_ABORTED', 'request aborted'));
        return;
      }
      const req = transport.request(url, { method, headers, agent: this.pool, signal: opts.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new AgentError('AGENT_MANAGER_ERROR', `response larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if (text.length > 0) {
            try {
              parsed = JSON.parse(text);
            } catch {
              // keep the raw text: a proxy's HTML error page is still worth showing
            }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(toAgentError(err, url));
        });
      });
      const timer = setTimeout(() => {
        req.destroy(new AgentError('AGENT_MANAGER_TIMEOUT', `no answer from ${url.origin} within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const converted = toAgentError(err, url);
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) converted.details.staleSocket = true;
        reject(converted);
      });
      req.end(payload);
    });
  }

  /** Sends, checks the status and validates the answer against the protocol schema. */
  async call<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: TSchema,
    body?: unknown,
    opts?: RequestOptions,
  ): Promise<T> {
    const res = await this.request(method, path, body, opts);
    if (res.status < 200 || res.status >= 300) throw httpError(res, path);
    if (!Value.Check(schema, res.body)) {
      const first = Value.Errors(schema, res.body)[0];
      throw new AgentError(
        'AGENT_PROTOCOL_ERROR',
        `manager answer to ${path} does not match the protocol${first ? `: ${first.instancePath || '/'} ${first.message}` : ''}`,
      );
    }
    return res.body as T;
  }

  close(): void {
    this.pool.destroy();
  }
}

/** The manager's error body is `{statusCode, code, error, message, field?}`; keep its code and message. */
export function managerErrorInfo(body: unknown): { code?: string; message?: string; field?: string } {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    return {
      code: typeof b.code === 'string' ? b.code : undefined,
      message: typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : undefined,
      field: typeof b.field === 'string' ? b.field : undefined,
    };
  }
  return { message: typeof body === 'string' && body.length > 0 ? body.slice(0, 500) : undefined };
}

export function httpError(res: HttpResult, path: string): AgentError {
  const info = managerErrorInfo(res.body);
  const what = `${info.code ? `${info.code}: ` : ''}${info.message ?? 'no message'}`;
  const details = { status: res.status, managerCode: info.code, managerMessage: info.message, field: info.field };
  if (res.status === 401 || res.status === 403) {
    return new AgentError('AGENT_UNAUTHORIZED', `manager refused the agent's credentials on ${path} (HTTP ${res.status} ${what})`, details);
  }
  return new AgentError('AGENT_MANAGER_ERROR', `manager answered HTTP ${res.status} on ${path} (${what})`, details);
}

function toAgentError(err: unknown, url: URL): AgentError {
  if (err instanceof AgentError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError' || e?.code === 'ABORT_ERR') return new AgentError('AGENT_ABORTED', 'request aborted');
  const code = e?.code ?? '';
  if (TLS_ERROR_CODES.has(code) || /certificate|ssl|tls/i.test(e?.message ?? '')) {
    return new AgentError(
      'AGENT_TLS_ERROR',
      `TLS with ${url.origin} failed (${code || 'tls'}: ${e.message}); pass the manager's CA with --ca FILE`,
      { cause: code },
    );
  }
  return new AgentError('AGENT_MANAGER_UNREACHABLE', `cannot reach the manager at ${url.origin} (${code || 'error'}: ${e?.message ?? String(err)})`, {
    cause: code,
  });
}
