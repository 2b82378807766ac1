/** One packet the kernel logged for a Palisade rule (`log prefix "pal <kind> <rule>: "`). */
export interface FirewallLogEntry {
  /** allow, deny, force-allow, bypass, log (log-only rules), block (dynamic block list), scan. */
  kind: string;
  /** Rule name, or `out-of-allowed`, `dynamic`, `port-scan`. */
  rule: string;
  direction: 'in' | 'out';
  iface?: string;
  src?: string;
  dst?: string;
  proto?: string;
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  /** TCP flags the kernel printed (SYN, ACK, …). */
  flags: string[];
}

const PREFIX = /pal (\S+) (\S+): (.*)$/;
const TCP_FLAG_WORDS = new Set(['CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN']);

/**
 * Parses a kernel log line written by nftables' `log` statement (from `dmesg`, `/dev/kmsg`,
 * journald or syslog: whatever comes before the prefix is ignored). Lines of other software
 * return undefined.
 */
export function parseFirewallLogLine(line: string): FirewallLogEntry | undefined {
  const m = PREFIX.exec(line);
  if (!m) return undefined;
  const fields = new Map<string, string>();
  const flags: string[] = [];
  for (const tok of m[3]!.trim().split(/\s+/)) {
    const eq = tok.indexOf('=');
    if (eq > 0) fields.set(tok.slice(0, eq), tok.slice(eq + 1));
    else if (TCP_FLAG_WORDS.has(tok)) flags.push(tok);
  }
  if (!fields.has('IN') && !fields.has('OUT')) return undefined;
  const num = (k: string) => (fields.has(k) && /^\d+$/.test(fields.get(k)!) ? Number(fields.get(k)) : undefined);
  const inIf = fields.get('IN') ?? '';
  const outIf = fields.get('OUT') ?? '';
  const entry: FirewallLogEntry = { kind: m[1]!, rule: m[2]!, direction: inIf ? 'in' : 'out', flags };
  const iface = inIf || outIf;
  if (iface) entry.iface = iface;
  for (const [k, key] of [
    ['SRC', 'src'],
    ['DST', 'dst'],
    ['PROTO', 'proto'],
  ] as const) {
    const v = fields.get(k);
    if (v) entry[key] = key === 'proto' ? v.toLowerCase() : v;
  }
  const spt = num('SPT');
  const dpt = num('DPT');
  const type = num('TYPE');
  if (spt !== undefined) entry.srcPort = spt;
  if (dpt !== undefined) entry.dstPort = dpt;
  if (type !== undefined && entry.proto?.startsWith('icmp')) entry.icmpType = type;
  return entry;
}
