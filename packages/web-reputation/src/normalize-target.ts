import { domainToASCII } from 'node:url';

/** A URL or bare host, reduced to the parts matching uses. */
export interface Target {
  host: string;
  hostKind: 'domain' | 'ipv4' | 'ipv6';
  /** 0 when unknown (a bare host without scheme or port). */
  port: number;
  /** Path starting with `/`, empty for a bare host. */
  path: string;
  /** `?query` or empty. */
  query: string;
  /** IPv4 address as an unsigned 32-bit number. */
  ipv4?: number;
  /** IPv6 address as a bigint. */
  ipv6?: bigint;
}

export const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21 };

const SIMPLE_HOST = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const DOTTED_QUAD =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/** Path characters that need the full WHATWG parser: escapes, dot segments, backslashes, spaces, non-ASCII. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/** Canonical dotted quad only (no leading zeros, each part <= 255), scanned without a regex. */
export function ipv4ToNumber(text: string): number | undefined {
  const n = ipv4InRange(text, 0, text.length);
  return n < 0 ? undefined : n;
}

/** `ipv4ToNumber` of `s.slice(start, end)` without the slice; -1 when it is not a canonical dotted quad. */
function ipv4InRange(s: string, start: number, end: number): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || parts === 4) return -1;
      n = n * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  return parts === 4 ? n : -1;
}

export function ipv6ToBigInt(text: string): bigint | undefined {
  let t = text;
  let tail: number[] = [];
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const n = ipv4ToNumber(v4[1]!);
    if (n === undefined) return undefined;
    tail = [n >>> 16, n & 0xffff];
    t = t.slice(0, v4.index);
    if (t.endsWith(':')) t += ':';
  }
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16) : Number.NaN));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const groups =
    halves.length === 2
      ? [...head, ...new Array(8 - head.length - rest.length - tail.length).fill(0), ...rest, ...tail]
      : [...head, ...tail];
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g) || g < 0)) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

function hostTarget(host: string, port: number, path: string, query: string): Target | undefined {
  if (host.startsWith('[')) {
    const inner = host.slice(1, -1);
    const v = ipv6ToBigInt(inner);
    if (v === undefined) return undefined;
    return { host: canonicalIpv6(v), hostKind: 'ipv6', port, path, query, ipv6: v };
  }
  const n = ipv4ToNumber(host);
  if (n !== undefined) return { host, hostKind: 'ipv4', port, path, query, ipv4: n };
  return { host, hostKind: 'domain', port, path, query };
}

export function canonicalIpv6(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > len && j - i > 1) {
      best = i;
      len = j - i;
    }
    i = j;
  }
  const h = groups.map((g) => g.toString(16));
  return best < 0 ? h.join(':') : `${h.slice(0, best).join(':')}::${h.slice(best + len).join(':')}`;
}

/** Character classes for the hand-written fast path: 1 = host char, 2 = plain path char. */
const HOST_CHAR = new Uint8Array(128);
const PATH_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[a-z0-9._-]/.test(ch)) HOST_CHAR[c] = 1;
  if (/[A-Za-z0-9\-._~!$&'()*+,;=:@/]/.test(ch)) PATH_CHAR[c] = 1;
}

/**
 * Parses a URL (`https://Evil.example:8443/a?b#c`) or a bare host (`evil.example`,
 * `evil.example:8080`, `10.0.0.1`, `[::1]:53`). The common ASCII case is scanned by hand, once,
 * because lookups must cost well under a microsecond; anything unusual (upper case, IDN, percent
 * escapes, dot segments, userinfo, odd IPv4 spellings like `0x7f.1`) goes through the general path
 * and the WHATWG parser, so a feed entry and a request written differently normalize alike.
 */
export function normalizeTarget(input: string): Target | undefined {
  return fastNormalize(input) ?? generalNormalize(input);
}

/**
 * Where the parts of a URL are in the string it came in, as the hand-written scanner found them:
 * the host is `[hostStart, hostEnd)`, the path `[pathStart, pathEnd)` (empty for none), the query
 * `[pathEnd, queryEnd)` (empty or starting with `?`). Reused from lookup to lookup, so the common
 * case costs no allocation at all.
 */
export class ScannedUrl {
  hostStart = 0;
  hostEnd = 0;
  port = 0;
  pathStart = 0;
  pathEnd = 0;
  queryEnd = 0;
  /** The IPv4 address as an unsigned number, -1 for a domain name. */
  ipv4 = -1;
  /** A scheme was given (so an empty path means `/`). */
  scheme = false;
}

/**
 * The fast path of `normalizeTarget`: the lower-case ASCII `http(s)://host[:port][/path][?query][#frag]`
 * and bare `host[:port]` forms that need no folding, scanned once by hand. False for anything
 * else (the general path handles it). The parts are offsets into `s`: nothing is sliced.
 */
export function scanUrl(s: string, r: ScannedUrl): boolean {
  const n = s.length;
  let i = 0;
  let port = 0;
  // Scheme: only the lower-case spellings of http and https take the fast path.
  if (s.startsWith('http://')) {
    i = 7;
    port = 80;
  } else if (s.startsWith('https://')) {
    i = 8;
    port = 443;
  }
  const hostStart = i;
  let dots = 0;
  let lastDot = -1;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && HOST_CHAR[c] === 1) {
      if (c === 46) {
        dots++;
        lastDot = i;
      }
      continue;
    }
    if (c === 47 || c === 58 || c === 63) break;
    return false;
  }
  const hostEnd = i;
  if (hostEnd === hostStart || lastDot === hostEnd - 1 || s.charCodeAt(hostStart) === 46) return false;
  if (i < n && s.charCodeAt(i) === 58) {
    let p = 0;
    let digits = 0;
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      p = p * 10 + (c - 48);
      digits++;
    }
    if (digits === 0 || digits > 5 || p > 65535) return false;
    port = p;
  }
  let pathStart = i;
  let pathEnd = i;
  let queryEnd = i;
  if (i < n) {
    const c0 = s.charCodeAt(i);
    if (c0 === 47) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c === 63 || c === 35) break;
        if (c >= 128 || PATH_CHAR[c] !== 1) return false;
        // A dot segment needs resolving; leave it to the general path.
        if (c === 46 && s.charCodeAt(i - 1) === 47) return false;
      }
      pathEnd = i;
    } else if (c0 !== 63) return false;
    if (i < n && s.charCodeAt(i) === 63) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c === 35) break;
        if (c <= 32 || c >= 127) return false;
      }
    }
    queryEnd = i;
    if (i < n && s.charCodeAt(i) !== 35) return false;
  }
  let ipv4 = -1;
  const lastLabel = s.charCodeAt(lastDot < 0 ? hostStart : lastDot + 1);
  if (lastLabel >= 48 && lastLabel <= 57) {
    // A numeric last label makes the host an IPv4 address in WHATWG terms.
    if (dots !== 3) return false;
    ipv4 = ipv4InRange(s, hostStart, hostEnd);
    if (ipv4 < 0) return false;
  }
  r.hostStart = hostStart;
  r.hostEnd = hostEnd;
  r.port = port;
  r.pathStart = pathStart;
  r.pathEnd = pathEnd;
  r.queryEnd = queryEnd;
  r.ipv4 = ipv4;
  r.scheme = hostStart > 0;
  return true;
}

const scratch = new ScannedUrl();

function fastNormalize(s: string): Target | undefined {
  if (!scanUrl(s, scratch)) return undefined;
  const r = scratch;
  const host = s.slice(r.hostStart, r.hostEnd);
  const path = r.pathEnd > r.pathStart ? s.slice(r.pathStart, r.pathEnd) : r.scheme ? '/' : '';
  const query = s.slice(r.pathEnd, r.queryEnd);
  if (r.ipv4 >= 0) return { host, hostKind: 'ipv4', port: r.port, path, query, ipv4: r.ipv4 };
  return { host, hostKind: 'domain', port: r.port, path, query };
}

function generalNormalize(input: string): Target | undefined {
  let s = input.trim();
  if (s === '') return undefined;
  const sep = s.indexOf('://');
  let scheme = '';
  if (sep > 0) {
    scheme = s.slice(0, sep).toLowerCase();
    s = s.slice(sep + 3);
  }
  const hashAt = s.indexOf('#');
  if (hashAt >= 0) s = s.slice(0, hashAt);
  let end = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 47 || c === 63 || c === 92) {
      end = i;
      break;
    }
  }
  let authority = s.slice(0, end);
  let rest = s.slice(end);
  if (authority.includes('@')) authority = authority.slice(authority.lastIndexOf('@') + 1);
  // A bare IPv6 literal (`2001:db8::1`) has colons but no brackets and no port.
  if (authority.indexOf(':') !== authority.lastIndexOf(':') && authority[0] !== '[') authority = `[${authority}]`;
  let host = authority;
  let port = scheme ? (DEFAULT_PORTS[scheme] ?? 0) : 0;
  const colon = authority.lastIndexOf(':');
  if (colon >= 0 && !authority.endsWith(']') && (authority[0] !== '[' || authority.lastIndexOf(']') < colon)) {
    const p = authority.slice(colon + 1);
    if (p !== '') {
      if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) return undefined;
      port = Number(p);
    }
    host = authority.slice(0, colon);
  }
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q);
    rest = rest.slice(0, q);
  }
  const path = rest === '' ? (scheme ? '/' : '') : rest;
  // WHATWG reads a host whose last label is a number (`3405803783`, `0xcb.0.113.7`) as IPv4.
  const last = host.slice(host.lastIndexOf('.') + 1);
  const simpleHost = SIMPLE_HOST.test(host) && (!/^(\d+|0x[0-9a-f]*)$/.test(last) || DOTTED_QUAD.test(host));
  const simplePath =
    path === '' ||
    (PLAIN_PATH.test(path) && !path.includes('/./') && !path.includes('/../') && !path.endsWith('/.') && !path.endsWith('/..'));
  const simpleQuery = query === '' || /^\?[\x21-\x7e]*$/.test(query);
  if (simpleHost && simplePath && simpleQuery) return hostTarget(host, port, path, query);
  if (host.startsWith('[') && simplePath && simpleQuery) return hostTarget(host, port, path, query);
  return slowNormalize(scheme, host, port, path, query);
}

function slowNormalize(scheme: string, host: string, port: number, path: string, query: string): Target | undefined {
  if (host === '') return undefined;
  let url: URL;
  try {
    // A special scheme is needed for WHATWG host parsing (IDN, IPv4 forms); the port is kept aside.
    url = new URL(`http://${host}${path || '/'}${query}`);
  } catch {
    return undefined;
  }
  let h = url.hostname;
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === '') return undefined;
  if (!h.startsWith('[') && /[^\x00-\x7f]/.test(h)) {
    const ascii = domainToASCII(h);
    if (!ascii) return undefined;
    h = ascii;
  }
  const p = path === '' && !scheme ? '' : url.pathname;
  return hostTarget(h, port, p, url.search);
}

/** `host:port/path?query`: the key of an exact-URL entry (port 0 for a bare host). */
export function urlKey(t: Target): string {
  return `${t.host}:${t.port}${t.path}${t.query}`;
}
