import ipaddr from 'ipaddr.js';

/** An inclusive range of addresses of one family; a single address or a CIDR is a range too. */
export interface AddressRange {
  family: 4 | 6;
  start: bigint;
  end: bigint;
}

const MAX: Record<4 | 6, bigint> = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n };

function toBigInt(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let n = 0n;
  for (const b of addr.toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

function parseOne(text: string): { family: 4 | 6; value: bigint } | undefined {
  // ipaddr.isValid accepts "1", "010.1" and other inet_aton forms nft rejects; insist on the
  // four-part dotted form so that what loads is what nft loads.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { family: 4, value: toBigInt(ipaddr.IPv4.parse(text)) };
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) {
    const addr = ipaddr.IPv6.parse(text);
    // An IPv4-mapped IPv6 address never appears as an ip6 saddr on the wire of a dual-stack host.
    return { family: 6, value: toBigInt(addr) };
  }
  return undefined;
}

/** Parses `10.0.0.1`, `10.0.0.0/8`, `10.0.0.1-10.0.0.9`, `fd00::/8`; returns an error text otherwise. */
export function parseAddressRange(text: string): AddressRange | string {
  const t = text.trim();
  const dash = t.indexOf('-');
  if (dash > 0) {
    const a = parseOne(t.slice(0, dash).trim());
    const b = parseOne(t.slice(dash + 1).trim());
    if (!a || !b) return `"${t}" is not an address range (expected A-B with two addresses)`;
    if (a.family !== b.family) return `"${t}" mixes IPv4 and IPv6`;
    if (a.value > b.value) return `"${t}" starts after it ends`;
    return { family: a.family, start: a.value, end: b.value };
  }
  const slash = t.indexOf('/');
  if (slash > 0) {
    const a = parseOne(t.slice(0, slash));
    const bitsText = t.slice(slash + 1);
    if (!a || !/^\d{1,3}$/.test(bitsText)) return `"${t}" is not a CIDR block`;
    const bits = Number(bitsText);
    const width = a.family === 4 ? 32 : 128;
    if (bits > width) return `"${t}" has a prefix longer than ${width} bits`;
    const hostBits = BigInt(width - bits);
    const mask = (1n << hostBits) - 1n;
    // A CIDR written with host bits set (10.1.2.3/8) is almost always a typo for a smaller block;
    // we accept it the way nft does (it masks), rather than refuse an otherwise valid policy.
    const start = a.value & ~mask & MAX[a.family];
    return { family: a.family, start, end: start | mask };
  }
  const a = parseOne(t);
  if (!a) return `"${t}" is not an IPv4 or IPv6 address`;
  return { family: a.family, start: a.value, end: a.value };
}

export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  return parseOne(text.trim());
}

/** Sorts and merges overlapping or adjacent ranges: nft interval sets refuse overlaps. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const out: AddressRange[] = [];
  for (const family of [4, 6] as const) {
    const sorted = ranges.filter((r) => r.family === family).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let cur: AddressRange | undefined;
    for (const r of sorted) {
      if (cur && r.start <= cur.end + 1n) {
        if (r.end > cur.end) cur.end = r.end;
      } else {
        if (cur) out.push(cur);
        cur = { family, start: r.start, end: r.end };
      }
    }
    if (cur) out.push(cur);
  }
  return out;
}

export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  }
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return ipaddr.IPv6.parse(parts.map((p) => p.toString(16)).join(':')).toString();
}

/** The nft element text of a range: an address, a CIDR when the range is one, else `a-b`. */
export function formatRange(r: AddressRange): string {
  if (r.start === r.end) return formatAddress(r.family, r.start);
  const size = r.end - r.start + 1n;
  if ((size & (size - 1n)) === 0n && (r.start & (size - 1n)) === 0n) {
    const width = r.family === 4 ? 32 : 128;
    let hostBits = 0;
    while (1n << BigInt(hostBits) < size) hostBits++;
    return `${formatAddress(r.family, r.start)}/${width - hostBits}`;
  }
  return `${formatAddress(r.family, r.start)}-${formatAddress(r.family, r.end)}`;
}

export function rangesContain(ranges: readonly AddressRange[], family: 4 | 6, value: bigint): boolean {
  return ranges.some((r) => r.family === family && r.start <= value && value <= r.end);
}
