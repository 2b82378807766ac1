import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { type Cidr, deriveClientAddress } from './client-address.ts';
import type { IpsAction, IpsDetection } from './ips-event.ts';

const ACTIONS: readonly IpsAction[] = ['blocked', 'detected', 'fail-open', 'fail-closed'];
const MAX_LINE = 16384;

/** Turns one line from `@palisade/ips-middleware`'s agentReporter into a detection, or nothing. */
export function parseMiddlewareLine(line: string, trusted: readonly Cidr[]): IpsDetection | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object' || !ACTIONS.includes(o.action as IpsAction) || typeof o.requestLine !== 'string') return undefined;
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
  const peer = str(o.peerAddress, 64);
  const tags = Array.isArray(o.tags) ? o.tags.filter((t): t is string => typeof t === 'string') : [];
  return {
    service: `app:${str(o.service, 64) || 'node'}`,
    action: o.action as IpsAction,
    ruleId: typeof o.ruleId === 'number' && Number.isInteger(o.ruleId) ? o.ruleId : 0,
    cves: tags.filter((t) => /^CVE-\d{4}-\d+$/.test(t)),
    msg: str(o.msg, 300),
    peerAddress: peer,
    clientAddress: deriveClientAddress(peer, typeof o.forwardedFor === 'string' ? o.forwardedFor : undefined, trusted),
    requestLine: str(o.requestLine, 1100),
    matchedData: '',
    ...(typeof o.status === 'number' ? { status: o.status } : {}),
  };
}

/**
 * The local endpoint Node applications running the middleware report to. Mode 0660: the
 * application's user joins the agent's group; events can drive response playbooks, so not
 * everyone on the host may write them.
 */
export class MiddlewareListener {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly path: string,
    private readonly onDetection: (d: IpsDetection) => void,
    private trusted: readonly Cidr[],
  ) {}

  setTrusted(t: readonly Cidr[]): void {
    this.trusted = t;
  }

  async start(): Promise<void> {
    if (existsSync(this.path)) unlinkSync(this.path);
    const server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        buf += c;
        if (buf.length > MAX_LINE && !buf.includes('\n')) {
          s.destroy();
          return;
        }
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const d = parseMiddlewareLine(buf.slice(0, nl), this.trusted);
          buf = buf.slice(nl + 1);
          if (d) this.onDetection(d);
          nl = buf.indexOf('\n');
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    chmodSync(this.path, 0o660);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const c of this.sockets) c.destroy();
    await new Promise<void>((r) => s.close(() => r()));
    if (existsSync(this.path)) unlinkSync(this.path);
  }
}
