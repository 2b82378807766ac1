import ipaddr from 'ipaddr.js';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

function normalize(a: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let s = a.trim();
  // X-Forwarded-For entries may carry a port ("1.2.3.4:5678", "[2001:db8::1]:443").
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracket) s = bracket[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  if (!ipaddr.isValid(s)) return undefined;
  const p = ipaddr.parse(s);
  return p.kind() === 'ipv6' && (p as ipaddr.IPv6).isIPv4MappedAddress() ? (p as ipaddr.IPv6).toIPv4Address() : p;
}

/** Parses trusted proxy CIDRs (a bare address is a /32 or /128); returns the bad entries. */
export function parseTrustedProxies(list: readonly string[]): { cidrs: Cidr[]; invalid: string[] } {
  const cidrs: Cidr[] = [];
  const invalid: string[] = [];
  for (const item of list) {
    try {
      if (item.includes('/')) cidrs.push(ipaddr.parseCIDR(item));
      else {
        const a = normalize(item);
        if (!a) throw new Error('bad');
        cidrs.push([a, a.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      invalid.push(item);
    }
  }
  return { cidrs, invalid };
}

function trusted(a: ipaddr.IPv4 | ipaddr.IPv6, cidrs: readonly Cidr[]): boolean {
  return cidrs.some(([net, bits]) => net.kind() === a.kind() && a.match(net as never, bits));
}

/**
 * The address a response playbook should block. Walk from the peer towards the client: while the
 * hop we heard from is a trusted proxy, believe what it appended to X-Forwarded-For; the first
 * untrusted hop is the client. (The left-most untrusted entry, read right to left, so an attacker
 * cannot pick their address by sending their own X-Forwarded-For.) Unparsable entries stop the
 * walk at the last hop we could trust.
 */
export function deriveClientAddress(peer: string, forwardedFor: readonly string[] | string | undefined, cidrs: readonly Cidr[]): string {
  const p = normalize(peer);
  if (!p) return peer;
  if (!forwardedFor || !trusted(p, cidrs)) return p.toString();
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor as string))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let client = p;
  for (let i = hops.length - 1; i >= 0; i--) {
    const a = normalize(hops[i]!);
    if (!a) break;
    client = a;
    if (!trusted(a, cidrs)) break;
  }
  return client.toString();
}
