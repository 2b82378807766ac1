import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Verdict } from '@palisade/web-reputation';
import { blockPage } from './block-page.ts';
import { readClientHelloSni } from './tls-client-hello.ts';

export type WebVia = 'http' | 'connect' | 'sni';

export interface OutboundProxyOptions {
  /** The verdict for a URL (`https://host:port/` when only the host is known). */
  judge(url: string): Verdict;
  /** Called for every block verdict, also in detect mode. */
  onBlock(v: Verdict, via: WebVia, client: string): void;
  /** Detect mode: report block verdicts and let the traffic through. */
  detectOnly?: boolean;
  /** Static name -> address overrides consulted before DNS. */
  hosts(): Readonly<Record<string, string>>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const MAX_HELLO = 16 * 1024;

/**
 * The outbound web proxy: explicit (absolute-form requests and CONNECT) and transparent (origin
 * form with a Host header on the HTTP listener; TLS on the SNI listener). Node cannot read a
 * redirected connection's original destination (SO_ORIGINAL_DST), so the destination is the
 * name the client asked for, resolved here: a client can only ever reach what the judged name
 * points to, never an address behind a harmless-looking name.
 */
export class OutboundProxy {
  private http: http.Server | undefined;
  private tls: net.Server | undefined;
  private readonly sockets = new Set<Socket | Duplex>();
  readonly counters = { requests: 0, blocked: 0, connects: 0, tlsPassthrough: 0, upstreamErrors: 0 };

  constructor(private readonly opts: OutboundProxyOptions) {}

  async listen(
    httpAt: { host: string; port: number },
    tlsAt?: { host: string; port: number },
  ): Promise<{ http: AddressInfo; tls?: AddressInfo }> {
    const server = http.createServer({ requireHostHeader: false }, (req, res) => this.onRequest(req, res));
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onConnect(req, socket, head));
    server.on('connection', (s: Socket) => this.track(s));
    this.http = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(httpAt.port, httpAt.host, () => resolve());
    });
    const out: { http: AddressInfo; tls?: AddressInfo } = { http: server.address() as AddressInfo };
    if (tlsAt) {
      const tls = net.createServer((s) => this.onTls(s));
      this.tls = tls;
      await new Promise<void>((resolve, reject) => {
        tls.once('error', reject);
        tls.listen(tlsAt.port, tlsAt.host, () => resolve());
      });
      out.tls = tls.address() as AddressInfo;
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.http, this.tls].map((srv) => (srv ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve())));
    this.http = this.tls = undefined;
  }

  private track(s: Socket | Duplex): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private resolveHost(host: string): string {
    return this.opts.hosts()[host.toLowerCase()] ?? host;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests++;
    const client = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    let target: URL;
    try {
      // Absolute form: an explicit proxy client. Origin form: redirected here transparently.
      target = /^https?:\/\//i.test(req.url ?? '') ? new URL(req.url!) : new URL(req.url ?? '/', `http://${req.headers.host ?? ''}`);
      if (!target.hostname) throw new Error('no host');
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Palisade proxy: the request names no destination host\n');
      return;
    }
    if (target.protocol !== 'http:') {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Palisade proxy: only http:// URLs; use CONNECT for https\n');
      return;
    }
    const verdict = this.opts.judge(target.href);
    if (verdict.action === 'block') this.opts.onBlock(verdict, 'http', client);
    if (verdict.action === 'block' && !this.opts.detectOnly) {
      this.counters.blocked++;
      const page = blockPage(verdict);
      res
        .writeHead(403, {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': Buffer.byteLength(page),
          'X-Palisade-Blocked': 'web-reputation',
          // No `Connection: close`: a client that keeps its connection keeps its socket, so the
          // event can still name its process (the lookup runs after this answer).
        })
        .end(page);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]!;
      if (HOP_BY_HOP.has(k.toLowerCase())) continue;
      const prev = headers[k];
      const v = req.rawHeaders[i + 1]!;
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    if (req.headers['transfer-encoding']) headers['Transfer-Encoding'] = 'chunked';
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    const up = http.request({
      host: this.resolveHost(hostname),
      port: Number(target.port || 80),
      method: req.method,
      path: `${target.pathname}${target.search}`,
      headers,
      setHost: false,
    });
    up.on('response', (ur) => {
      const raw: string[] = [];
      for (let i = 0; i < ur.rawHeaders.length; i += 2) {
        const k = ur.rawHeaders[i]!;
        if (!HOP_BY_HOP.has(k.toLowerCase())) raw.push(k, ur.rawHeaders[i + 1]!);
      }
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, raw);
      ur.pipe(res);
    });
    up.on('error', (err) => {
      this.counters.upstreamErrors++;
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`Palisade proxy: ${hostname}: ${err.message}\n`);
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  private onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.counters.connects++;
    this.track(socket);
    socket.on('error', () => socket.destroy());
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(req.url ?? '');
    if (!m) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [, host, port] = m as unknown as [string, string, string];
    const verdict = this.opts.judge(`https://${host.includes(':') ? `[${host}]` : host}:${port}/`);
    if (verdict.action === 'block') this.opts.onBlock(verdict, 'connect', `${req.socket.remoteAddress}:${req.socket.remotePort}`);
    if (verdict.action === 'block' && !this.opts.detectOnly) {
      this.counters.blocked++;
      socket.end('HTTP/1.1 403 Forbidden\r\nX-Palisade-Blocked: web-reputation\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const up = net.connect(Number(port), this.resolveHost(host), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    this.track(up);
    up.on('error', () => {
      this.counters.upstreamErrors++;
      socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
    socket.on('close', () => up.destroy());
  }

  /** Redirected TLS: judge by the ClientHello's server name, then splice without decrypting. */
  private onTls(socket: Socket): void {
    this.track(socket);
    const chunks: Buffer[] = [];
    let size = 0;
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    const onData = (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      const buf = Buffer.concat(chunks);
      const sni = readClientHelloSni(buf);
      if (sni === undefined && size < MAX_HELLO) return;
      socket.off('data', onData);
      socket.pause();
      // No name, no destination: the original address is not readable here, so nothing to splice to.
      if (!sni) return void socket.destroy();
      const verdict = this.opts.judge(`https://${sni}/`);
      if (verdict.action === 'block') this.opts.onBlock(verdict, 'sni', client);
      if (verdict.action === 'block' && !this.opts.detectOnly) {
        this.counters.blocked++;
        return void socket.destroy(); // a TLS client cannot be shown a page without decrypting
      }
      this.counters.tlsPassthrough++;
      socket.setTimeout(0);
      const up = net.connect(443, this.resolveHost(sni), () => {
        up.write(buf);
        up.pipe(socket);
        socket.pipe(up);
        socket.resume();
      });
      this.track(up);
      up.on('error', () => {
        this.counters.upstreamErrors++;
        socket.destroy();
      });
      socket.on('close', () => up.destroy());
    };
    socket.on('data', onData);
  }
}
