import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Interruption, MatchedRule, RuleSet } from '@palisade/seclang';
import { type InspectionVerdict, RequestInspector } from './request-inspector.ts';

export interface MiddlewareDetection {
  action: 'blocked' | 'detected' | 'fail-open' | 'fail-closed';
  ruleId: number;
  msg: string;
  tags: readonly string[];
  peerAddress: string;
  /** The request's X-Forwarded-For, for the agent to derive the client with its trusted proxies. */
  forwardedFor?: string;
  requestLine: string;
  status?: number;
}

export interface IpsMiddlewareOptions {
  ruleSet: RuleSet;
  /** `detect` reports and lets everything through. */
  mode?: 'detect' | 'prevent';
  blockStatus?: number;
  blockPage?: string;
  /** On an engine exception: `open` lets the request through, `closed` answers 503. */
  failMode?: 'open' | 'closed';
  /** Where detections go (e.g. a reporter that forwards them to the local agent). */
  onDetection?: (d: MiddlewareDetection) => void;
}

export type MiddlewareDecision = { pass: true } | { pass: false; status: number; body: string };

function headerPairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function decidingRule(rules: readonly MatchedRule[], id: number): MatchedRule | undefined {
  return rules.find((r) => r.id === id);
}

/**
 * Reads the whole request body without taking it away from the application: the bytes are
 * put back at the front of the stream (`unshift`) before 'end' is emitted, so body parsers that
 * run after the middleware (Express, Koa, plain `req.on('data')`) read the same bytes.
 */
function readAndRestore(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onReadable = () => {
      let c: Buffer | null;
      while ((c = req.read() as Buffer | null) !== null) chunks.push(c);
      if (req.readableEnded || (req.complete && req.readableLength === 0)) finish();
    };
    const finish = () => {
      req.off('readable', onReadable);
      req.off('error', reject);
      const body = Buffer.concat(chunks);
      if (body.length) req.unshift(body);
      resolve(body);
    };
    if (req.complete && req.readableLength === 0) return finish();
    req.on('readable', onReadable);
    req.on('error', reject);
  });
}

/** The engine in front of one request; the adapters below only translate the decision. */
export class IpsRequestGuard {
  constructor(private readonly opts: IpsMiddlewareOptions) {}

  private report(
    req: IncomingMessage,
    action: MiddlewareDetection['action'],
    v: InspectionVerdict | null,
    i: Interruption | null,
    err?: unknown,
  ): void {
    const r = i && v ? decidingRule(v.matchedRules, i.ruleId) : undefined;
    this.opts.onDetection?.({
      action,
      ruleId: i?.ruleId ?? 0,
      msg: r?.msg ?? (err ? `inspection engine error: ${(err as Error).message ?? String(err)}` : ''),
      tags: r?.tags ?? [],
      peerAddress: req.socket?.remoteAddress ?? '',
      ...(typeof req.headers['x-forwarded-for'] === 'string' ? { forwardedFor: req.headers['x-forwarded-for'] } : {}),
      requestLine: `${req.method} ${req.url} HTTP/${req.httpVersion}`,
      ...(i ? { status: i.status } : {}),
    });
  }

  private outcome(req: IncomingMessage, v: InspectionVerdict): MiddlewareDecision {
    const i = v.interruption;
    if (!i) return { pass: true };
    if (this.opts.mode === 'detect') {
      this.report(req, 'detected', v, i);
      return { pass: true };
    }
    this.report(req, 'blocked', v, i);
    return {
      pass: false,
      status: i.ruleId === 0 ? i.status : (this.opts.blockStatus ?? 403),
      body: this.opts.blockPage ?? 'Request blocked\n',
    };
  }

  private failed(req: IncomingMessage, err: unknown): MiddlewareDecision {
    if (this.opts.failMode === 'closed') {
      this.report(req, 'fail-closed', null, null, err);
      return { pass: false, status: 503, body: 'Service unavailable\n' };
    }
    this.report(req, 'fail-open', null, null, err);
    return { pass: true };
  }

  private inspector(req: IncomingMessage): RequestInspector {
    return new RequestInspector(this.opts.ruleSet, {
      method: req.method ?? 'GET',
      uri: req.url ?? '/',
      protocol: `HTTP/${req.httpVersion}`,
      headers: headerPairs(req.rawHeaders),
      peerAddress: req.socket?.remoteAddress ?? '',
      peerPort: req.socket?.remotePort ?? 0,
    });
  }

  /** For Node/Express/Koa: inspects headers and body; the body stays readable for the app. */
  async check(req: IncomingMessage): Promise<MiddlewareDecision> {
    try {
      const ins = this.inspector(req);
      const h = ins.headers();
      if (h.interruption) return this.outcome(req, h);
      const body = await readAndRestore(req);
      if (body.length) {
        const b = ins.body(body);
        if (b) return this.outcome(req, b);
      }
      return this.outcome(req, ins.finish());
    } catch (err) {
      return this.failed(req, err);
    }
  }

  /** For frameworks that hand over the body stream (Fastify preParsing): returns a fresh stream. */
  async checkWithPayload(
    req: IncomingMessage,
    payload: NodeJS.ReadableStream,
  ): Promise<{ decision: MiddlewareDecision; payload: Readable }> {
    const chunks: Buffer[] = [];
    for await (const c of payload as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    const body = Buffer.concat(chunks);
    const fresh = Readable.from(body.length ? [body] : []);
    (fresh as unknown as { receivedEncodedLength: number }).receivedEncodedLength = body.length;
    try {
      const ins = this.inspector(req);
      const h = ins.headers();
      if (h.interruption) return { decision: this.outcome(req, h), payload: fresh };
      if (body.length) {
        const b = ins.body(body);
        if (b) return { decision: this.outcome(req, b), payload: fresh };
      }
      return { decision: this.outcome(req, ins.finish()), payload: fresh };
    } catch (err) {
      return { decision: this.failed(req, err), payload: fresh };
    }
  }
}

function refuse(res: ServerResponse, d: Extract<MiddlewareDecision, { pass: false }>): void {
  res.writeHead(d.status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(d.body)),
    Connection: 'close',
  });
  res.end(d.body);
}

/** node:http: wraps a request listener. */
export function ipsNodeHandler(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: IpsMiddlewareOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const guard = new IpsRequestGuard(opts);
  return (req, res) => {
    void guard.check(req).then((d) => (d.pass ? handler(req, res) : refuse(res, d)));
  };
}

/** Express / Connect: `app.use(ipsExpress(opts))` before the body parsers. */
export function ipsExpress(opts: IpsMiddlewareOptions): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const guard = new IpsRequestGuard(opts);
  return (req, res, next) => {
    guard.check(req).then((d) => (d.pass ? next() : refuse(res, d)), next);
  };
}

/** Koa: `app.use(ipsKoa(opts))` before the body parser. */
export function ipsKoa(
  opts: IpsMiddlewareOptions,
): (
  ctx: { req: IncomingMessage; res: ServerResponse; status: number; body: unknown; set(k: string, v: string): void },
  next: () => Promise<unknown>,
) => Promise<void> {
  const guard = new IpsRequestGuard(opts);
  return async (ctx, next) => {
    const d = await guard.check(ctx.req);
    if (!d.pass) {
      ctx.status = d.status;
      ctx.set('Connection', 'close');
      ctx.body = d.body;
      return;
    }
    await next();
  };
}

interface FastifyLike {
  addHook(
    name: 'preParsing',
    fn: (
      request: { raw: IncomingMessage },
      reply: { code(n: number): { header(k: string, v: string): { send(b: string): unknown } } },
      payload: NodeJS.ReadableStream,
    ) => Promise<unknown>,
  ): unknown;
}

/** Fastify: `ipsFastify(app, opts)`; inspects in preParsing and hands the parser a fresh stream. */
export function ipsFastify(app: FastifyLike, opts: IpsMiddlewareOptions): void {
  const guard = new IpsRequestGuard(opts);
  app.addHook('preParsing', async (request, reply, payload) => {
    const { decision, payload: fresh } = await guard.checkWithPayload(request.raw, payload);
    if (!decision.pass) {
      await reply.code(decision.status).header('Content-Type', 'text/html; charset=utf-8').send(decision.body);
      return fresh;
    }
    return fresh;
  });
}
