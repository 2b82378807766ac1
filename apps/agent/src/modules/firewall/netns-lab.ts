import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

// Test helper for real-traffic tests: a server namespace joined by veth pairs to two client
// namespaces, with addresses that exist only inside them. Everything it creates carries the
// process id, and `destroy` removes all of it.

const SERVER_JS = `
import net from 'node:net';
import dgram from 'node:dgram';
const [tcp, udp] = process.argv.slice(2).map((s) => s.split(',').filter(Boolean).map(Number));
let pending = tcp.length * 2 + udp.length * 2;
const ready = () => { if (--pending === 0) process.stdout.write('ready\\n'); };
for (const port of tcp) for (const host of ['0.0.0.0', '::']) {
  // write without closing: a FIN riding along would be a second chance for the data to get
  // through, which the model's four-packet exchange (SYN, SYN-ACK, ACK, data) does not have.
  const s = net.createServer((c) => { c.on('error', () => {}); c.on('end', () => c.end()); c.write('ok'); });
  s.listen({ port, host, ipv6Only: host === '::' }, ready);
}
for (const port of udp) for (const type of ['udp4', 'udp6']) {
  const s = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(port, type === 'udp4' ? '0.0.0.0' : '::', ready);
}
`;

const CLIENT_JS = `
import net from 'node:net';
import dgram from 'node:dgram';
const attempts = JSON.parse(process.argv[2]);
const timeout = Number(process.argv[3]);
function tcp(a) {
  return new Promise((resolve) => {
    const s = net.connect({ host: a.host, port: a.port, ...(a.localPort ? { localPort: a.localPort } : {}) });
    let got = '';
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, timeout);
    s.on('data', (d) => { got += d; if (got === 'ok') { clearTimeout(t); s.destroy(); resolve('ok'); } });
    s.on('error', (e) => { clearTimeout(t); resolve(e.code || 'error'); });
  });
}
function udp(a) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(a.host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => { s.close(); resolve('timeout'); }, timeout);
    s.on('message', () => { clearTimeout(t); s.close(); resolve('ok'); });
    s.on('error', (e) => { clearTimeout(t); try { s.close(); } catch {} resolve(e.code || 'error'); });
    s.send('ping', a.port, a.host);
  });
}
const res = await Promise.all(attempts.map((a) => (a.proto === 'tcp' ? tcp(a) : udp(a))));
process.stdout.write(JSON.stringify(res));
`;

// Node has no raw sockets; a few lines of Python send one ICMP echo and wait for its reply.
const PING_PY = `
import os, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
out = []
timeout = float(sys.argv[1])
socks = []
for i, dst in enumerate(sys.argv[2:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = (os.getpid() + i) & 0xffff
    body = struct.pack('!BBHHH', 8, 0, 0, ident, 1) + b'palisade'
    pkt = struct.pack('!BBHHH', 8, 0, csum(body), ident, 1) + b'palisade'
    try:
        s.sendto(pkt, (dst, 0))
    except OSError:
        # a local firewall drop on output comes back as EPERM: the echo never left
        socks.append((None, ident, dst))
        continue
    socks.append((s, ident, dst))
deadline = time.time() + timeout
for s, ident, dst in socks:
    ok = False
    while s is not None and not ok and time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (data[0] & 15) * 4
        t, code, _, rid, _ = struct.unpack('!BBHHH', data[ihl:ihl + 8])
        ok = t == 0 and rid == ident and addr[0] == dst
    out.append('ok' if ok else 'timeout')
print(','.join(out))
`;

export interface Attempt {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
}

export function labUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: network namespaces and nftables need root';
  for (const [cmd, args] of [
    ['ip', ['netns', 'list']],
    ['nft', ['--version']],
  ] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: 'ignore' });
    } catch {
      return `\`${cmd} ${args.join(' ')}\` does not run here`;
    }
  }
  return undefined;
}

export function pythonAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'import socket'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class NetnsLab {
  readonly server: string;
  readonly clientA: string;
  readonly clientB: string;
  readonly ip = { server1: '10.77.1.1', server2: '10.77.2.1', a: '10.77.1.2', b: '10.77.2.2', server6: 'fd77:1::1', a6: 'fd77:1::2' };
  private readonly dir: string;
  private readonly procs: ChildProcess[] = [];

  constructor(readonly tag = String(process.pid)) {
    this.server = `pal-s-${tag}`;
    this.clientA = `pal-a-${tag}`;
    this.clientB = `pal-b-${tag}`;
    this.dir = mkdtempSync(join(tmpdir(), 'palisade-fw-lab-'));
    writeFileSync(join(this.dir, 'server.mjs'), SERVER_JS);
    writeFileSync(join(this.dir, 'client.mjs'), CLIENT_JS);
    writeFileSync(join(this.dir, 'ping.py'), PING_PY);
  }

  get stateDir(): string {
    return join(this.dir, 'state');
  }

  private sh(...args: string[]): void {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  exec(ns: string, cmd: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8' });
  }

  create(): void {
    for (const ns of [this.server, this.clientA, this.clientB]) {
      this.sh('netns', 'add', ns);
      this.sh('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // Interfaces are created inside the namespaces: nothing appears in the host's namespace.
    this.sh('-n', this.server, 'link', 'add', 'sa', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.clientA);
    this.sh('-n', this.server, 'link', 'add', 'sb', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.clientB);
    const addr = (ns: string, dev: string, a: string, a6?: string) => {
      this.sh('-n', ns, 'addr', 'add', a, 'dev', dev);
      if (a6) this.sh('-n', ns, '-6', 'addr', 'add', a6, 'dev', dev, 'nodad');
      this.sh('-n', ns, 'link', 'set', dev, 'up');
    };
    addr(this.server, 'sa', '10.77.1.1/24', 'fd77:1::1/64');
    addr(this.server, 'sb', '10.77.2.1/24');
    addr(this.clientA, 'eth0', '10.77.1.2/24', 'fd77:1::2/64');
    addr(this.clientB, 'eth0', '10.77.2.2/24');
    this.sh('-n', this.clientA, 'route', 'add', 'default', 'via', '10.77.1.1');
    this.sh('-n', this.clientB, 'route', 'add', 'default', 'via', '10.77.2.1');
  }

  /** Starts TCP "ok" servers and UDP echo servers in a namespace and waits until they listen. */
  async listen(ns: string, tcp: number[], udp: number[]): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(this.dir, 'server.mjs'), tcp.join(','), udp.join(',')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.procs.push(child);
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    if (!chunk.toString().includes('ready')) throw new Error(`servers in ${ns} did not start`);
  }

  /** Runs the attempts concurrently from a namespace; each is 'ok', 'timeout' or an error code. */
  async attempt(ns: string, attempts: Attempt[], timeoutMs = 700): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, process.execPath, join(this.dir, 'client.mjs'), JSON.stringify(attempts), String(timeoutMs)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`client exited ${code}`))));
    });
  }

  async ping(ns: string, targets: string[], timeoutMs = 700): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ns, 'python3', join(this.dir, 'ping.py'), String(timeoutMs / 1000), ...targets], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('close', (code) => (code === 0 ? resolve(out.trim().split(',')) : reject(new Error(`ping exited ${code}`))));
    });
  }

  destroy(): void {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of [this.server, this.clientA, this.clientB]) {
      try {
        this.sh('netns', 'del', ns);
      } catch {
        // already gone (creation failed half-way)
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
