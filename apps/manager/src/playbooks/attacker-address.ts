import { BlockList, isIP } from 'node:net';
import type { PlaybookEvent } from './event-filter.ts';

/** `::ffff:203.0.113.7` is an IPv4 attacker: it is blocked as a /32 in an IPV4 set. */
export function normalizeAddress(a: string): string | undefined {
  const s = a.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (mapped) return mapped[1];
  return isIP(s) ? s : undefined;
}

/**
 * The attacker of an event. The IPS puts the client it derived into `details.clientAddress`:
 * the left-most untrusted X-Forwarded-For entry when the request came through a trusted load
 * balancer (never an entry the client could have forged), else the TCP peer. Other modules name
 * a source address as `sourceAddress`/`srcip`.
 */
export function attackerAddressOf(e: PlaybookEvent): string | undefined {
  const d = e.details ?? {};
  for (const key of ['clientAddress', 'sourceAddress', 'srcip', 'srcIp']) {
    const v = d[key];
    if (typeof v === 'string') {
      const a = normalizeAddress(v);
      if (a) return a;
    }
  }
  return undefined;
}

/** Parses allow-list entries (CIDR or bare address); returns the bad ones as well. */
export function parseAllowList(entries: readonly string[]): { list: BlockList; invalid: string[] } {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const raw of entries) {
    const [addr, bits, extra] = raw.trim().split('/');
    const a = addr ? normalizeAddress(addr) : undefined;
    const type = a && isIP(a) === 6 ? 'ipv6' : 'ipv4';
    const max = type === 'ipv6' ? 128 : 32;
    if (!a || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > max))) {
      invalid.push(raw);
      continue;
    }
    if (bits === undefined) list.addAddress(a, type);
    else list.addSubnet(a, Number(bits), type);
  }
  return { list, invalid };
}

const NEVER_BLOCK = parseAllowList([
  '0.0.0.0/8',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '224.0.0.0/4',
  '255.255.255.255/32',
  '::/128',
  '::1/128',
  'fe80::/10',
  'ff00::/8',
]).list;

/**
 * Why an address must not be blocked, or undefined. Loopback, link-local (the metadata service),
 * multicast and unspecified addresses never are; nor anything on the playbook's allow-list (its
 * load balancers, NAT gateways, admin networks); nor the address of a computer Palisade protects.
 */
export function blockRefusal(address: string, allowList: readonly string[], protectedAddresses: ReadonlySet<string>): string | undefined {
  const a = normalizeAddress(address);
  if (!a) return `${address} is not an IP address`;
  const type = isIP(a) === 6 ? 'ipv6' : 'ipv4';
  if (NEVER_BLOCK.check(a, type)) return `${a} is a loopback, link-local, multicast or unspecified address`;
  if (parseAllowList(allowList).list.check(a, type)) return `${a} is on the playbook's allow-list`;
  if (protectedAddresses.has(a)) return `${a} is the address of a protected computer`;
  return undefined;
}
