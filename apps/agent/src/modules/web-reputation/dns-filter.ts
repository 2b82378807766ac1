import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Verdict } from '@palisade/web-reputation';
import { blockedAnswer, readQuestion } from './dns-message.ts';

export interface DnsFilterOptions {
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
  answer: 'nxdomain' | 'sinkhole';
  judge(url: string): Verdict;
  /** Called for every block verdict, also in detect mode. */
  onBlock(v: Verdict, client: string): void;
  /** Detect mode: report block verdicts and resolve the name anyway. */
  detectOnly?: boolean;
  timeoutMs?: number;
}

/**
 * A filtering DNS forwarder over UDP: a blocked name is answered here (NXDOMAIN or a sinkhole
 * address); every other query goes to the upstream resolver unchanged and its answer back
 * unchanged. Nothing is cached, so the upstream's TTLs and DNSSEC bits pass through as they are.
 */
export class DnsFilter {
  private socket: dgram.Socket | undefined;
  readonly counters = { queries: 0, blocked: 0, forwarded: 0, upstreamTimeouts: 0, malformed: 0 };

  constructor(private readonly opts: DnsFilterOptions) {}

  async start(): Promise<{ address: string; port: number }> {
    const sock = dgram.createSocket(isIP(this.opts.listen.host) === 6 ? 'udp6' : 'udp4');
    this.socket = sock;
    sock.on('message', (msg, rinfo) => this.onQuery(msg, rinfo));
    sock.on('error', () => undefined); // a bad datagram must not stop the resolver
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.opts.listen.port, this.opts.listen.host, () => resolve());
    });
    return sock.address();
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private reply(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    this.socket?.send(buf, rinfo.port, rinfo.address);
  }

  private onQuery(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.counters.queries++;
    const q = readQuestion(msg);
    if (!q) {
      this.counters.malformed++;
      return;
    }
    if (q.name) {
      const v = this.opts.judge(`http://${q.name}/`);
      if (v.action === 'block') this.opts.onBlock(v, `${rinfo.address}:${rinfo.port}`);
      if (v.action === 'block' && !this.opts.detectOnly) {
        this.counters.blocked++;
        this.reply(blockedAnswer(msg, q, this.opts.answer), rinfo);
        return;
      }
    }
    this.counters.forwarded++;
    const up = dgram.createSocket(isIP(this.opts.upstream.host) === 6 ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      this.counters.upstreamTimeouts++;
      up.close();
    }, this.opts.timeoutMs ?? 3000);
    up.on('message', (answer) => {
      clearTimeout(timer);
      up.close();
      this.reply(answer, rinfo);
    });
    up.on('error', () => {
      clearTimeout(timer);
      up.close();
    });
    up.send(msg, this.opts.upstream.port, this.opts.upstream.host);
  }
}
