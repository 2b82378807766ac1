import ipaddr from 'ipaddr.js';

/** One `<srcip>`/`<dstip>` value: an address or CIDR network, optionally negated with `!`. */
export interface IpEntry {
  negate: boolean;
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

export function parseIpEntry(text: string): IpEntry | string {
  let t = text.trim();
  const negate = t.startsWith('!');
  if (negate) t = t.slice(1);
  try {
    if (t.includes('/')) {
      const [addr, bits] = t.split('/');
      const parsed = ipaddr.parse(addr!);
      // Wazuh also accepts dotted netmasks.
      const prefix = bits!.includes('.') ? ipaddr.IPv4.parse(bits!).prefixLengthFromSubnetMask() : Number(bits);
      if (prefix === null || !Number.isInteger(prefix)) return `bad netmask in "${text}"`;
      return { negate, range: [parsed, prefix] };
    }
    const parsed = ipaddr.parse(t);
    return { negate, range: [parsed, parsed.kind() === 'ipv4' ? 32 : 128] };
  } catch {
    return `"${text}" is not an IP address or network`;
  }
}

/** analysisd's OS_IPFoundList: the first matching entry decides; a negated list accepts the rest. */
export function ipFoundList(ip: string, list: readonly IpEntry[]): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip.trim());
  } catch {
    return false;
  }
  let positive = true;
  for (const e of list) {
    if (e.negate) positive = false;
    const [net, bits] = e.range;
    let a = addr;
    if (a.kind() !== net.kind()) {
      if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
      else continue;
    }
    if (a.match(net, bits)) return positive;
  }
  return !positive;
}
