import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { ipv4ToNumber, ipv6ToBigInt } from '@palisade/web-reputation';
import type { ModuleContext, ModuleEventInput } from '../agent-module.ts';

/** Who holds the client end of a local connection. */
export interface SocketOwner {
  /** The socket's owner (from the kernel's socket table). */
  uid: number;
  /** The uid's name in /etc/passwd, or null when it has none there. */
  user: string | null;
  /** Absent when the process had closed the socket (or exited) before it was found. */
  process?: { pid: number; exe: string | null; name: string | null };
}

export interface SocketOwnerOptions {
  /** Defaults to /proc. */
  procDir?: string;
  /** Defaults to /etc/passwd. */
  passwdFile?: string;
  /** How long an answer (and the passwd table) is reused. Default 2 s. */
  ttlMs?: number;
  /** Most fd links read per lookup: the bound on the cost of one lookup on a busy host. Default 20,000. */
  maxFdLinks?: number;
  /** Fd links read per second over all lookups; past it a lookup reports the user without the process. Default 50,000. */
  maxFdLinksPerSecond?: number;
  /** Lookups running at once; more are answered `undefined` at once. Default 4. */
  maxInFlight?: number;
  /** A lookup gives up after this long, answering what it knows (the uid, without the process). Default 1 s. */
  timeoutMs?: number;
  /** The host's own addresses, for deciding that a client is local (default: the interfaces' addresses). */
  localAddresses?: () => Iterable<string>;
  now?: () => number;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * How /proc/net/{tcp,udp}[6] writes an address and port: each 32-bit word of the address in the
 * host's byte order as 8 hex digits, then `:` and the port as 4 hex digits. Returns the IPv4 form
 * (for tcp/udp, undefined for an IPv6 address) and the IPv6 form (IPv4 addresses mapped).
 */
export function procNetAddress(address: string, port: number, littleEndian = LITTLE_ENDIAN): { v4?: string; v6: string } | undefined {
  let a = address;
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  const bytes: number[] = [];
  let v4: number | undefined;
  if (isIP(a) === 4) {
    v4 = ipv4ToNumber(a);
    if (v4 === undefined) return undefined;
    bytes.push(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255);
  } else if (isIP(a) === 6) {
    const v = ipv6ToBigInt(a.toLowerCase().replace(/%.*$/, ''));
    if (v === undefined) return undefined;
    for (let i = 15; i >= 0; i--) bytes.push(Number((v >> BigInt(i * 8)) & 0xffn));
  } else return undefined;
  const word = (i: number) => {
    const w = littleEndian ? [bytes[i + 3]!, bytes[i + 2]!, bytes[i + 1]!, bytes[i]!] : bytes.slice(i, i + 4);
    return w.map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  const p = port.toString(16).padStart(4, '0');
  const v6 = `${word(0)}${word(4)}${word(8)}${word(12)}:${p}`.toUpperCase();
  return { ...(v4 !== undefined ? { v4: `${word(12)}:${p}`.toUpperCase() } : {}), v6 };
}

/**
 * The (uid, inode) of the socket whose local end is `wanted` in a /proc/net table; for UDP a
 * socket bound to the wildcard address on that port also counts (an unconnected DNS client).
 * Sockets with inode 0 (TIME_WAIT, orphaned) have no owner left and are skipped.
 */
export function findInProcNet(table: string, wanted: string, wildcard?: string): { uid: number; inode: number } | undefined {
  let fallback: { uid: number; inode: number } | undefined;
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) continue;
    const local = f[1]!;
    if (local !== wanted && local !== wildcard) continue;
    const inode = Number(f[9]);
    if (!inode) continue;
    const hit = { uid: Number(f[7]), inode };
    if (local === wanted) return hit;
    fallback ??= hit;
  }
  return fallback;
}

/** uid -> name from a passwd file's text. */
export function parsePasswd(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && f[0] && /^\d+$/.test(f[2]!) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
  }
  return m;
}

function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\./.test(a);
}

/**
 * Finds the process and user behind the client end of a local TCP or UDP connection: the
 * client's address and port -> /proc/net/{tcp,udp}[6] (socket uid and inode) -> the process
 * whose /proc/<pid>/fd has a `socket:[inode]` link -> its exe and comm; the uid's name from
 * /etc/passwd. Best effort and bounded: a client that is not on this host costs nothing; a
 * lookup reads at most `maxFdLinks` fd links (the recent owners first, then the newest
 * processes), all lookups together at most `maxFdLinksPerSecond`; a lookup gives up after
 * `timeoutMs`, at most `maxInFlight` run at once, and answers are reused for `ttlMs`. A client
 * that closes its socket before the scan reaches it is reported with its user and no process.
 */
export class SocketOwnerLookup {
  private readonly proc: string;
  private readonly passwdFile: string;
  private readonly ttlMs: number;
  private readonly maxFdLinks: number;
  private readonly maxFdLinksPerSecond: number;
  private linkWindow = { at: 0, used: 0 };
  /** Processes that owned recent clients, searched first: repeated blocks of one program cost one fd directory. */
  private recentPids: number[] = [];
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly localAddresses: () => Iterable<string>;
  private readonly cache = new Map<string, { at: number; answer: Promise<SocketOwner | undefined> }>();
  private passwd: { at: number; users: Promise<Map<number, string>> } | undefined;
  private locals: { at: number; set: Set<string> } | undefined;
  private inFlight = 0;
  readonly counters = { lookups: 0, found: 0, processFound: 0, skippedBusy: 0, timedOut: 0 };

  constructor(opts: SocketOwnerOptions = {}) {
    this.proc = opts.procDir ?? '/proc';
    this.passwdFile = opts.passwdFile ?? '/etc/passwd';
    this.ttlMs = opts.ttlMs ?? 2000;
    this.maxFdLinks = opts.maxFdLinks ?? 20_000;
    this.maxFdLinksPerSecond = opts.maxFdLinksPerSecond ?? 50_000;
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.localAddresses =
      opts.localAddresses ??
      (() =>
        Object.values(networkInterfaces())
          .flat()
          .map((i) => i?.address ?? ''));
  }

  /** Whether the address is one of this host's (only those sockets are in this host's tables). */
  isLocal(address: string): boolean {
    if (isLoopback(address)) return true;
    const now = this.now();
    if (!this.locals || now - this.locals.at > 30_000) this.locals = { at: now, set: new Set(this.localAddresses()) };
    const a = address.startsWith('::ffff:') ? address.slice(7) : address;
    return this.locals.set.has(a);
  }

  /** The owner of the local socket `address:port` (the client end, as the server sees its peer). */
  lookup(protocol: 'tcp' | 'udp', address: string, port: number): Promise<SocketOwner | undefined> {
    if (!this.isLocal(address)) return Promise.resolve(undefined);
    const key = `${protocol} ${address} ${port}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.answer;
    if (this.inFlight >= this.maxInFlight) {
      this.counters.skippedBusy++;
      return Promise.resolve(undefined);
    }
    this.counters.lookups++;
    this.inFlight++;
    const known: { owner?: SocketOwner } = {};
    const work = this.find(protocol, address, port, known);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), this.timeoutMs);
      timer.unref?.();
    });
    const answer = Promise.race([work, timeout]).then(
      (r) => {
        if (r === 'timeout') this.counters.timedOut++;
        const owner = r === 'timeout' ? known.owner : r;
        if (owner) this.counters.found++;
        if (owner?.process) this.counters.processFound++;
        return owner;
      },
      () => known.owner,
    );
    void answer.finally(() => {
      clearTimeout(timer);
      this.inFlight--;
    });
    if (this.cache.size > 1000) for (const [k, e] of this.cache) if (now - e.at >= this.ttlMs) this.cache.delete(k);
    this.cache.set(key, { at: now, answer });
    return answer;
  }

  private async find(
    protocol: 'tcp' | 'udp',
    address: string,
    port: number,
    known: { owner?: SocketOwner },
  ): Promise<SocketOwner | undefined> {
    const want = procNetAddress(address, port);
    if (!want) return undefined;
    const p = port.toString(16).padStart(4, '0').toUpperCase();
    // Both tables are read at once, first thing: the client may close its end at any moment.
    const [t4, t6] = await Promise.all([protocol, `${protocol}6`].map((f) => readFile(`${this.proc}/net/${f}`, 'latin1').catch(() => '')));
    const sock =
      (want.v4 !== undefined ? findInProcNet(t4!, want.v4, protocol === 'udp' ? `00000000:${p}` : undefined) : undefined) ??
      findInProcNet(t6!, want.v6, protocol === 'udp' ? `${'0'.repeat(32)}:${p}` : undefined);
    if (!sock) return undefined;
    const users = await this.users();
    const owner: SocketOwner = { uid: sock.uid, user: users.get(sock.uid) ?? null };
    known.owner = owner;
    const pid = await this.pidOf(sock.inode);
    if (pid === undefined) return owner;
    const [exe, name] = await Promise.all([
      readlink(`${this.proc}/${pid}/exe`).catch(() => null),
      readFile(`${this.proc}/${pid}/comm`, 'utf8').then(
        (s) => s.trim(),
        () => null,
      ),
    ]);
    owner.process = { pid, exe, name };
    return owner;
  }

  /** Takes up to `n` fd links from this second's allowance; returns how many were granted. */
  private takeLinks(n: number): number {
    const now = this.now();
    if (now - this.linkWindow.at >= 1000) this.linkWindow = { at: now, used: 0 };
    const granted = Math.max(0, Math.min(n, this.maxFdLinksPerSecond - this.linkWindow.used));
    this.linkWindow.used += granted;
    return granted;
  }

  /**
   * The process holding the socket inode: the recent owners first, then the newest processes;
   * at most `maxFdLinks` links read, within the per-second allowance.
   */
  private async pidOf(inode: number): Promise<number | undefined> {
    const target = `socket:[${inode}]`;
    let pids: number[];
    try {
      pids = (await readdir(this.proc))
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => b - a);
    } catch {
      return undefined;
    }
    const recent = this.recentPids.filter((p) => pids.includes(p));
    pids = [...recent, ...pids.filter((p) => !recent.includes(p))];
    let budget = this.maxFdLinks;
    const scan = async (pid: number): Promise<number | undefined> => {
      const dir = `${this.proc}/${pid}/fd`;
      const fds = await readdir(dir).catch(() => [] as string[]);
      const allowed = this.takeLinks(Math.min(fds.length, Math.max(0, budget)));
      budget -= allowed;
      for (let k = 0; k < allowed; k++) if ((await readlink(`${dir}/${fds[k]}`).catch(() => '')) === target) return pid;
      return undefined;
    };
    // The recent owners one by one (usually the first is the one), then the rest in batches.
    let pid: number | undefined;
    for (const p of recent) if (pid === undefined && budget > 0) pid = await scan(p);
    const BATCH = 8;
    for (let i = recent.length; pid === undefined && i < pids.length && budget > 0; i += BATCH) {
      pid = (await Promise.all(pids.slice(i, i + BATCH).map(scan))).find((x) => x !== undefined);
    }
    if (pid !== undefined) this.recentPids = [pid, ...this.recentPids.filter((p) => p !== pid)].slice(0, 8);
    return pid;
  }

  private users(): Promise<Map<number, string>> {
    const now = this.now();
    if (!this.passwd || now - this.passwd.at > Math.max(this.ttlMs, 60_000)) {
      this.passwd = {
        at: now,
        users: readFile(this.passwdFile, 'utf8').then(parsePasswd, () => new Map<number, string>()),
      };
    }
    return this.passwd.users;
  }
}

/** `address:port` as the proxy and DNS filter write a client (IPv6 addresses unbracketed). */
export function splitClient(client: string): { address: string; port: number } | undefined {
  const colon = client.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(client.slice(colon + 1));
  const address = client.slice(0, colon).replace(/^\[|\]$/g, '');
  return Number.isInteger(port) && port > 0 && port < 65536 && isIP(address) ? { address, port } : undefined;
}

/** The event with the owner's `process` {pid, exe, name}, `user` and `uid` in its details. */
export function withSocketOwner(event: ModuleEventInput, o: SocketOwner): ModuleEventInput {
  const user = o.user ?? String(o.uid);
  const who = o.process ? `${o.process.name ?? o.process.exe ?? 'process'} (pid ${o.process.pid}, user ${user})` : `user ${user}`;
  return {
    ...event,
    message: `${event.message} by ${who}`,
    details: { ...event.details, ...(o.process ? { process: o.process } : {}), user, uid: o.uid },
  };
}

/**
 * Emits an event about a client connection: at once when the client is not on this host (or
 * there is no lookup); otherwise once the owner lookup settles, with the process and user when
 * found. The caller has already answered the client: nothing here delays a verdict.
 */
export function emitWithSocketOwner(
  ctx: ModuleContext | undefined,
  owners: SocketOwnerLookup | undefined,
  protocol: 'tcp' | 'udp',
  client: string,
  event: ModuleEventInput,
): void {
  if (!ctx) return;
  const c = owners ? splitClient(client) : undefined;
  if (!owners || !c || !owners.isLocal(c.address)) {
    ctx.emit(event);
    return;
  }
  owners.lookup(protocol, c.address, c.port).then(
    (o) => ctx.emit(o ? withSocketOwner(event, o) : event),
    () => ctx.emit(event),
  );
}
