import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  AGENT_API,
  type AgentCommand,
  type AgentEvent,
  ActivationRequestSchema,
  type CommandResult,
  CommandResultSchema,
  type EffectiveConfig,
  EventBatchSchema,
  type HeartbeatRequest,
  HeartbeatRequestSchema,
  type InventoryReport,
  InventoryReportSchema,
  agentAuthorization,
} from '@palisade/protocol';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * A stand-in for the manager's agent API, for the agent's own tests only: it implements the
 * protocol endpoints and validates every request against the protocol schemas, recording any
 * mismatch in `protocolErrors` so a test can assert the agent spoke the contract.
 * (End-to-end tests against the real manager live with the manager.)
 */
export class FakeManager {
  readonly tokens = new Set<string>(['activation-token-0001']);
  readonly agents = new Map<string, { secret: string; host: unknown }>();
  readonly heartbeats: HeartbeatRequest[] = [];
  readonly events = new Map<string, AgentEvent>();
  readonly eventBatches: number[] = [];
  readonly results = new Map<string, CommandResult>();
  readonly inventories: InventoryReport[] = [];
  readonly protocolErrors: string[] = [];
  /** Requests per path, answered or not: lets a test see how hard an agent knocks. */
  readonly hits = new Map<string, number>();
  duplicates = 0;
  heartbeatSeconds = 1;
  configHash = '';
  config: unknown = undefined;
  /** When set, /events answers 503 (a manager that is up but failing). */
  failEvents = false;
  private queue: AgentCommand[] = [];
  private pollers = new Set<() => void>();
  private resultWaiters = new Set<() => void>();
  private server: http.Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  port = 0;

  constructor(private readonly tls?: { key: string; cert: string }) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  setConfig(config: EffectiveConfig | unknown, hash = `h-${randomUUID().slice(0, 8)}`): string {
    this.config = config;
    this.configHash = hash;
    return hash;
  }

  queueCommand(kind: string, args: Record<string, unknown> = {}): string {
    const id = randomUUID();
    this.queue.push({ id, kind, args, createdAt: new Date().toISOString() });
    for (const wake of this.pollers) wake();
    return id;
  }

  async waitForResult(id: string, timeoutMs = 5_000): Promise<CommandResult> {
    const deadline = Date.now() + timeoutMs;
    while (!this.results.has(id)) {
      if (Date.now() > deadline) throw new Error(`no result for command ${id} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 100);
        const self = this;
        function done() {
          clearTimeout(t);
          self.resultWaiters.delete(done);
          resolve();
        }
        this.resultWaiters.add(done);
      });
    }
    return this.results.get(id) as CommandResult;
  }

  async start(port = 0): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const server = this.tls ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, handler) : http.createServer(handler);
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes abruptly, like a killed process: open connections are reset. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const wake of this.pollers) wake();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private check(schema: TSchema, value: unknown, what: string): boolean {
    if (Value.Check(schema, value)) return true;
    const first = Value.Errors(schema, value)[0];
    this.protocolErrors.push(`${what}: ${first ? `${first.instancePath} ${first.message}` : 'invalid'}`);
    return false;
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(res: http.ServerResponse, status: number, code: string, message: string): void {
    this.send(res, status, { statusCode: status, code, error: http.STATUS_CODES[status], message });
  }

  private async body(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  private authorized(req: http.IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    for (const [id, a] of this.agents) if (header === agentAuthorization(id, a.secret)) return true;
    return false;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.hits.set(url.pathname, (this.hits.get(url.pathname) ?? 0) + 1);
    let body: unknown;
    try {
      body = await this.body(req);
    } catch {
      this.fail(res, 400, 'API_BAD_JSON', 'malformed JSON');
      return;
    }
    if (req.method === 'POST' && url.pathname === AGENT_API.activate) {
      if (!this.check(ActivationRequestSchema, body, 'activate')) return this.fail(res, 400, 'API_VALIDATION', 'bad request');
      const { token, host } = body as { token: string; host: unknown };
      if (!this.tokens.has(token)) return this.fail(res, 401, 'TOKEN_INVALID', 'activation token is unknown or revoked');
      const agentId = randomUUID();
      const agentSecret = randomUUID() + randomUUID();
      this.agents.set(agentId, { secret: agentSecret, host });
      return this.send(res, 201, { agentId, agentSecret, tenantId: 'primary', heartbeatSeconds: this.heartbeatSeconds });
    }
    if (!this.authorized(req)) return this.fail(res, 401, 'AUTH_AGENT_INVALID', 'unknown agent credentials');

    if (req.method === 'POST' && url.pathname === AGENT_API.heartbeat) {
      if (!this.check(HeartbeatRequestSchema, body, 'heartbeat')) return this.fail(res, 400, 'API_VALIDATION', 'bad heartbeat');
      this.heartbeats.push(body as HeartbeatRequest);
      return this.send(res, 200, {
        configHash: this.configHash,
        heartbeatSeconds: this.heartbeatSeconds,
        serverTime: new Date().toISOString(),
      });
    }
    if (req.method === 'GET' && url.pathname === AGENT_API.config) {
      if (!this.configHash) return this.fail(res, 404, 'API_NOT_FOUND', 'no configuration');
      return this.send(res, 200, { hash: this.configHash, config: this.config });
    }
    if (req.method === 'POST' && url.pathname === AGENT_API.events) {
      if (this.failEvents) return this.fail(res, 503, 'API_UNAVAILABLE', 'try later');
      if (!this.check(EventBatchSchema, body, 'events')) return this.fail(res, 400, 'API_VALIDATION', 'bad batch');
      const { events } = body as { events: AgentEvent[] };
      let inserted = 0;
      for (const e of events) {
        if (this.events.has(e.id)) this.duplicates++;
        else {
          this.events.set(e.id, e);
          inserted++;
        }
      }
      this.eventBatches.push(events.length);
      return this.send(res, 200, { acked: events.map((e) => e.id), inserted, duplicates: events.length - inserted });
    }
    if (req.method === 'GET' && url.pathname === AGENT_API.commands) {
      const wait = Math.min(30, Number(url.searchParams.get('waitSeconds') ?? 0));
      if (this.queue.length === 0 && wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, wait * 1000);
          const pollers = this.pollers;
          function done() {
            clearTimeout(timer);
            pollers.delete(done);
            resolve();
          }
          pollers.add(done);
          req.socket.once('close', done);
        });
      }
      if (res.destroyed) return;
      const commands = this.queue;
      this.queue = [];
      return this.send(res, 200, { commands });
    }
    if (req.method === 'POST' && url.pathname === AGENT_API.inventory) {
      if (!this.check(InventoryReportSchema, body, 'inventory')) return this.fail(res, 400, 'API_VALIDATION', 'bad inventory');
      const report = body as InventoryReport;
      const hash = createHash('sha256').update(JSON.stringify(report.inventory.items)).digest('hex').slice(0, 32);
      const previous = this.inventories.at(-1);
      const changed = !previous || createHash('sha256').update(JSON.stringify(previous.inventory.items)).digest('hex').slice(0, 32) !== hash;
      this.inventories.push(report);
      return this.send(res, 200, { hash, changed });
    }
    const m = /^\/api\/agent\/v1\/commands\/([^/]+)\/result$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      if (!this.check(CommandResultSchema, body, 'command result')) return this.fail(res, 400, 'API_VALIDATION', 'bad result');
      this.results.set(decodeURIComponent(m[1]), body as CommandResult);
      for (const w of this.resultWaiters) w();
      return this.send(res, 200, {});
    }
    this.fail(res, 404, 'API_NOT_FOUND', `no route ${req.method} ${url.pathname}`);
  }
}
