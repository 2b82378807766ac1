import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type InspectedRequest, type InspectionVerdict, RequestInspector } from '@palisade/ips-middleware';
import type { Interruption, RuleSet } from '@palisade/seclang';
import { type Cidr, deriveClientAddress } from './client-address.ts';
import { describeMatch, type IpsAction, type IpsDetection } from './ips-event.ts';

export interface InlineProxyOptions {
  name: string;
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
  tls?: { cert: string | Buffer; key: string | Buffer };
  mode: 'off' | 'detect' | 'prevent';
  ruleSet: RuleSet;
  detectOnly?: ReadonlySet<number>;
  cveByRule?: ReadonlyMap<number, string[]>;
  trustedProxies: readonly Cidr[];
  blockStatus: number;
  blockPage: string;
  failMode: 'open' | 'closed';
  matchedDataMax?: number;
  onDetection(d: IpsDetection): void;
  onError?(err: unknown): void;
  /**
   * Engine in a worker (with a time budget): the proxy buffers the body up to `bodyLimit` and
   * asks this function. Without it the engine runs in the proxy's own thread.
   */
  remote?: (req: InspectedRequest, body?: Uint8Array) => Promise<InspectionVerdict>;
  bodyLimit?: number;
  bodyLimitAction?: 'Reject' | 'ProcessPartial';
}

export interface ProxyCounters {
  requests: number;
  blocked: number;
  detected: number;
  engineErrors: number;
  upstreamErrors: number;
  upgrades: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

/** Header pairs from Node's flat rawHeaders (original case and order kept for the engine). */
function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/**
 * The inline inspection proxy for one protected service: every request goes through the engine
 * before a byte reaches the upstream. The body is held back until phase 2 has decided (up to the
 * SecLang body limit; past it, `ProcessPartial` decides on the inspected part and then streams
 * the rest). WebSocket/Upgrade requests are inspected on their handshake, then spliced.
 */
export class InlineProxy {
  private server: http.Server | https.Server | undefined;
  private readonly agent: http.Agent;
  private readonly sockets = new Set<Duplex>();
  readonly counters: ProxyCounters = { requests: 0, blocked: 0, detected: 0, engineErrors: 0, upstreamErrors: 0, upgrades: 0 };

  constructor(private opts: InlineProxyOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  }

  /** Swaps rules/mode without dropping connections (reconfigure). */
  update(
    next: Partial<
      Pick<
        InlineProxyOptions,
        | 'ruleSet'
        | 'mode'
        | 'detectOnly'
        | 'cveByRule'
        | 'trustedProxies'
        | 'blockStatus'
        | 'blockPage'
        | 'failMode'
        | 'remote'
        | 'bodyLimit'
        | 'bodyLimitAction'
      >
    >,
  ): void {
    this.opts = { ...this.opts, ...next };
  }

  async start(): Promise<AddressInfo> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res);
    const common = { requireHostHeader: false, keepAliveTimeout: 5000 };
    this.server = this.opts.tls
      ? https.createServer({ ...common, cert: this.opts.tls.cert, key: this.opts.tls.key }, handler)
      : http.createServer(common, handler);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_err, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const srv = this.server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.opts.listen.port, this.opts.listen.host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    return srv.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    this.agent.destroy();
    if (!srv) return;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  private described(req: IncomingMessage, id: string): InspectedRequest {
    const s = req.socket;
    return {
      method: req.method ?? 'GET',
      uri: req.url ?? '/',
      protocol: `HTTP/${req.httpVersion}`,
      headers: pairs(req.rawHeaders),
      peerAddress: s.remoteAddress ?? '',
      peerPort: s.remotePort ?? 0,
      localAddress: s.localAddress ?? '',
      localPort: s.localPort ?? 0,
      id,
    };
  }

  private inspector(req: IncomingMessage, id: string): RequestInspector {
    return new RequestInspector(this.opts.ruleSet, this.described(req, id));
  }

  /** Worker mode: whole request (body bounded by bodyLimit) to the worker, then decide. */
  private onRequestRemote(req: IncomingMessage, res: ServerResponse): void {
    const ref = randomUUID();
    const limit = this.opts.bodyLimit ?? 1048576;
    const chunks: Buffer[] = [];
    let size = 0;
    let decided = false;
    const run = async (body: Buffer, streamRest: boolean) => {
      let v: InspectionVerdict;
      try {
        v = await this.opts.remote!(this.described(req, ref), body.length ? body : undefined);
      } catch (err) {
        this.onEngineError(err, req, res, chunks, streamRest);
        return;
      }
      this.settle(v, req, res, chunks, streamRest, ref);
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size <= limit) return;
      decided = true;
      req.off('data', onData);
      req.pause();
      if (this.opts.bodyLimitAction === 'ProcessPartial') void run(Buffer.concat(chunks).subarray(0, limit), true);
      else {
        const i: Interruption = { action: 'deny', status: 413, ruleId: 0, phase: 2 };
        this.settle({ interruption: i, matchedRules: [] }, req, res, chunks, true, ref);
      }
    };
    req.on('data', onData);
    req.on('end', () => {
      if (decided) return;
      decided = true;
      void run(Buffer.concat(chunks), false);
    });
  }

  /** What to do with a verdict: block only in prevent mode and not for detect-only rules. */
  private decide(v: InspectionVerdict, req: IncomingMessage): 'pass' | Interruption {
    const i = v.interruption;
    // Only an interruption is an event: CRS scoring rules match a little on much benign traffic.
    if (!i) return 'pass';
    const detectOnly = this.opts.detectOnly?.has(i.ruleId) ?? false;
    const blocking = this.opts.mode === 'prevent' && !detectOnly;
    this.report(v, req, blocking ? 'blocked' : 'detected', i);
    return blocking ? i : 'pass';
  }

  private report(v: InspectionVerdict, req: IncomingMessage, action: IpsAction, i: Interruption | null): void {
    if (action === 'blocked') this.counters.blocked++;
    else if (action === 'detected') this.counters.detected++;
    const m = i
      ? describeMatch(v.matchedRules, i.ruleId, this.opts.matchedDataMax ?? 200)
      : { ruleId: 0, msg: '', cves: [], matchedData: '' };
    const peer = req.socket.remoteAddress ?? '';
    const xff = req.headers['x-forwarded-for'];
    const cves = m.cves.length ? m.cves : (this.opts.cveByRule?.get(i?.ruleId ?? m.ruleId) ?? []);
    this.opts.onDetection({
      service: this.opts.name,
      action,
      ruleId: i?.ruleId || m.ruleId,
      cves,
      msg: m.msg || (i?.ruleId === 0 ? 'request body larger than the inspection limit' : ''),
      peerAddress: peer,
      clientAddress: deriveClientAddress(peer, xff, this.opts.trustedProxies),
      requestLine: `${req.method} ${(req.url ?? '').slice(0, 1024)} HTTP/${req.httpVersion}`,
      matchedData: m.matchedData,
      ...(i ? { status: i.status } : {}),
    });
  }

  /**
   * The engine failed on this request: 503 when the policy fails closed, otherwise the request
   * goes through uninspected. What the client still sends is drained either way (a no-op once
   * the body has ended).
   */
  private onEngineError(err: unknown, req: IncomingMessage, res: ServerResponse, held: Buffer[], streamRest: boolean): void {
    if (this.engineFailed(err, req)) {
      res.writeHead(503, { 'Content-Length': '0', Connection: 'close' }).end();
      req.resume();
    } else this.forward(req, res, held, streamRest);
  }

  /** Acts on a final verdict: block, or send the held-back body (and the rest) upstream. */
  private settle(v: InspectionVerdict, req: IncomingMessage, res: ServerResponse, held: Buffer[], streamRest: boolean, ref: string): void {
    const d = this.decide(v, req);
    if (d !== 'pass') this.block(res, req, d, ref);
    else this.forward(req, res, held, streamRest);
  }

  private engineFailed(err: unknown, req: IncomingMessage): boolean {
    this.counters.engineErrors++;
    this.opts.onError?.(err);
    const closed = this.opts.failMode === 'closed';
    this.opts.onDetection({
      service: this.opts.name,
      action: closed ? 'fail-closed' : 'fail-open',
      ruleId: 0,
      cves: [],
      msg: `inspection engine error: ${(err as Error)?.message ?? String(err)}`.slice(0, 300),
      peerAddress: req.socket.remoteAddress ?? '',
      clientAddress: deriveClientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], this.opts.trustedProxies),
      requestLine: `${req.method} ${(req.url ?? '').slice(0, 1024)} HTTP/${req.httpVersion}`,
      matchedData: '',
    });
    return closed;
  }

  private block(res: ServerResponse, req: IncomingMessage, i: Interruption, ref: string): void {
    req.resume();
    if (i.action === 'drop') {
      req.socket.destroy();
      return;
    }
    if (i.action === 'redirect' && i.redirectUrl) {
      res.writeHead(302, { Location: i.redirectUrl, 'Content-Length': '0', Connection: 'close' }).end();
      return;
    }
    const status = i.ruleId === 0 ? i.status : this.opts.blockStatus;
    const body = this.opts.blockPage.replaceAll('{{ref}}', ref);
    // Close after a block: the rest of a refused body is never read into the upstream.
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
      'X-Palisade-Ref': ref,
    });
    res.end(body);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests++;
    if (this.opts.mode === 'off') {
      this.forward(req, res, [], true);
      return;
    }
    if (this.opts.remote) {
      this.onRequestRemote(req, res);
      return;
    }
    const ref = randomUUID();
    let ins: RequestInspector;
    let v: InspectionVerdict;
    try {
      ins = this.inspector(req, ref);
      v = ins.headers();
    } catch (err) {
      this.onEngineError(err, req, res, [], true);
      return;
    }
    const d = this.decide(v, req);
    if (d !== 'pass') {
      this.block(res, req, d, ref);
      return;
    }
    if (v.interruption) {
      // Detect mode stopped the engine in phase 1: nothing more to inspect, forward as is.
      this.forward(req, res, [], true);
      return;
    }
    const chunks: Buffer[] = [];
    let failed = false;
    let decided = false;
    const onData = (c: Buffer) => {
      if (decided) return;
      chunks.push(c);
      let bv: InspectionVerdict | null = null;
      try {
        bv = ins.body(c);
      } catch (err) {
        failed = true;
        decided = true;
        req.off('data', onData);
        this.onEngineError(err, req, res, chunks, true);
        return;
      }
      if (!bv && ins.receivedBodyBytes > this.opts.ruleSet.config.requestBodyLimit) {
        // ProcessPartial: decide on the inspected prefix, then stream the rest without holding it.
        try {
          bv = ins.finish();
        } catch (err) {
          failed = true;
          decided = true;
          req.off('data', onData);
          this.onEngineError(err, req, res, chunks, true);
          return;
        }
      }
      if (bv) {
        decided = true;
        req.off('data', onData);
        this.settle(bv, req, res, chunks, true, ref);
      }
    };
    req.on('data', onData);
    req.on('end', () => {
      if (decided || failed) return;
      decided = true;
      let fv: InspectionVerdict;
      try {
        fv = ins.finish();
      } catch (err) {
        this.onEngineError(err, req, res, chunks, false);
        return;
      }
      this.settle(fv, req, res, chunks, false, ref);
    });
  }

  /**
   * Sends the request upstream: the held-back body first, then (when `streamRest`) whatever the
   * client still sends. With a complete body the length is exact, so the upstream never sees the
   * client's chunking and cannot be confused by it.
   */
  private forward(req: IncomingMessage, res: ServerResponse, held: Buffer[], streamRest: boolean): void {
    const headers: Record<string, string | string[]> = {};
    const names = new Map<string, string>();
    for (const [k, v] of pairs(req.rawHeaders)) {
      const l = k.toLowerCase();
      if (HOP_BY_HOP.has(l)) continue;
      const name = names.get(l) ?? k;
      names.set(l, name);
      const prev = headers[name];
      headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const body = Buffer.concat(held);
    const hadBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!streamRest && hadBody) headers['Content-Length'] = String(body.length);
    else if (streamRest && req.headers['content-length'] !== undefined && !req.headers['transfer-encoding'])
      headers['Content-Length'] = req.headers['content-length'];
    // Only a request held complete and safe to repeat: a POST that did reach the service before
    // the connection broke must not be run twice.
    const canRetry = !streamRest && IDEMPOTENT.has(req.method ?? '');
    const send = (retried: boolean): http.ClientRequest => {
      const up = http.request({
        host: this.opts.upstream.host,
        port: this.opts.upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
        setHost: false,
      });
      up.on('response', (ur) => {
        const raw: string[] = [];
        for (const [k, v] of pairs(ur.rawHeaders))
          if (!HOP_BY_HOP.has(k.toLowerCase()) || k.toLowerCase() === 'content-length') raw.push(k, v);
        res.writeHead(ur.statusCode ?? 502, ur.statusMessage, raw);
        ur.pipe(res);
      });
      up.on('error', () => {
        // A pooled keep-alive connection the upstream closed while idle fails before any byte of
        // a response; an idempotent request is sent once more on a new connection (as nginx
        // does with proxy_next_upstream for errors on a reused upstream connection).
        if (up.reusedSocket && !retried && canRetry && !res.headersSent && !res.destroyed) {
          const again = send(true);
          if (body.length) again.write(body);
          again.end();
          return;
        }
        this.counters.upstreamErrors++;
        if (!res.headersSent) res.writeHead(502, { 'Content-Length': '0' }).end();
        else res.destroy();
      });
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      return up;
    };
    const up = send(false);
    if (body.length) up.write(body);
    if (streamRest && !req.readableEnded) {
      req.pipe(up);
    } else up.end();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.counters.requests++;
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.opts.mode !== 'off') {
      const ref = randomUUID();
      if (this.opts.remote) {
        this.opts.remote(this.described(req, ref)).then(
          (v) => {
            const d = this.decide(v, req);
            if (d !== 'pass') refuse(this.opts.blockStatus, 'Forbidden');
            else this.splice(req, socket, head);
          },
          (err) => {
            if (this.engineFailed(err, req)) refuse(503, 'Service Unavailable');
            else this.splice(req, socket, head);
          },
        );
        return;
      }
      try {
        const ins = this.inspector(req, ref);
        let v = ins.headers();
        if (!v.interruption) v = ins.finish();
        const d = this.decide(v, req);
        if (d !== 'pass') {
          refuse(this.opts.blockStatus, 'Forbidden');
          return;
        }
      } catch (err) {
        if (this.engineFailed(err, req)) {
          refuse(503, 'Service Unavailable');
          return;
        }
      }
    }
    this.splice(req, socket, head);
  }

  private splice(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.counters.upgrades++;
    const up = net.connect(this.opts.upstream.port, this.opts.upstream.host, () => {
      let headText = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
      for (const [k, v] of pairs(req.rawHeaders)) headText += `${k}: ${v}\r\n`;
      up.write(`${headText}\r\n`);
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    this.sockets.add(up);
    up.on('close', () => this.sockets.delete(up));
    up.on('error', () => {
      this.counters.upstreamErrors++;
      socket.destroy();
    });
    socket.on('error', () => up.destroy());
  }
}
