import { type Diagnostic, type LoadResult, loadResult } from '@palisade/diagnostics';
import { type AddressRange, formatRange, mergeRanges } from './address-range.ts';
import { evaluateManagerReach } from './evaluate-packet.ts';
import {
  DAY_NAMES,
  type Failsafe,
  type FirewallPolicy,
  type FirewallRule,
  ICMP_TYPES,
  ICMPV6_TYPES,
  type Match,
  type PortRange,
  PROTOCOLS,
  TCP_FLAGS,
} from './firewall-policy.ts';
import { ruleOrder } from './rule-order.ts';

export const TABLE_NAME = 'palisade';
/** Dynamic block list sets the agent adds to at run time (`NftablesFirewall.block`). */
export const BLOCK_SETS = { 4: 'dynblock4', 6: 'dynblock6' } as const;

export interface CompileOptions {
  /** What the agent knows about its own manager and management access; overrides the policy's. */
  failsafe?: Partial<Failsafe>;
  /** Element lines per line of output for large sets; only cosmetic. */
  elementsPerLine?: number;
  /**
   * Consecutive rules with the same verdict and the same shape (only addresses, ports and one
   * protocol) are merged into one rule over a concatenated set once there are this many of them
   * (default 16): nft loads set elements an order of magnitude faster than rules, and the kernel
   * looks them up in one step. The verdict of every packet is unchanged (they are consecutive and
   * agree); their counter is shared and named after the group. 0 disables grouping.
   */
  groupMinRules?: number;
}

export interface CompiledRuleset {
  /** A complete `nft -f` file: replaces the Palisade tables atomically and touches nothing else. */
  text: string;
  /** Number of nft rules emitted (for benchmarks and status). */
  ruleCount: number;
  /** Set name -> element count. */
  sets: Record<string, number>;
}

type Fam = 'ipv4' | 'ipv6';
const PROTO_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(PROTOCOLS).map(([k, v]) => [v, k === 'icmpv6' ? 'ipv6-icmp' : k]),
);
const ICMP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ICMP_TYPES).map(([k, v]) => [v, k]));
const ICMPV6_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ICMPV6_TYPES).map(([k, v]) => [v, k]));

/** The failsafe in force: the agent's own knowledge wins over what the policy document says. */
export function effectiveFailsafe(policy: FirewallPolicy, options: CompileOptions = {}): Failsafe {
  return { ...policy.failsafe, ...Object.fromEntries(Object.entries(options.failsafe ?? {}).filter(([, v]) => v !== undefined)) };
}

function fmtPorts(ports: readonly PortRange[]): string[] {
  const sorted = [...ports].sort((a, b) => a.start - b.start);
  const out: PortRange[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.start <= last.end + 1) last.end = Math.max(last.end, p.end);
    else out.push({ ...p });
  }
  return out.map((p) => (p.start === p.end ? String(p.start) : `${p.start}-${p.end}`));
}

function anon(values: readonly string[]): string {
  // A single range stays a range expression: cheaper to load and to match than a one-element set.
  return values.length === 1 ? values[0]! : `{ ${values.join(', ')} }`;
}

function quote(s: string): string {
  return `"${s.replaceAll('"', '')}"`;
}

function hhmm(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** `end` is exclusive in the model; nft ranges are inclusive to the second. */
function hourRange(start: number, end: number): string {
  const last = end * 60 - 1;
  const hh = Math.floor(last / 3600);
  const mm = Math.floor((last % 3600) / 60);
  const ss = last % 60;
  return `"${hhmm(start)}"-"${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}"`;
}

/**
 * Compiles a policy to one nftables ruleset in `table inet palisade` (and `table arp palisade`
 * for ARP rules). Chain order, which the evaluator mirrors:
 * loopback, failsafe, block lists, IPv6 neighbour discovery, invalid/evasion drops, connection
 * limits, the rules in decision order, established return traffic, port-scan detection, and the
 * implicit deny of every kind (direction × frame) that has allow rules.
 */
export function compileRuleset(policy: FirewallPolicy, options: CompileOptions = {}): LoadResult<CompiledRuleset> {
  const diags: Diagnostic[] = [];
  const failsafe = effectiveFailsafe(policy, options);
  if (!failsafe.enabled && failsafe.manager) {
    const cut = evaluateManagerReach(policy, failsafe.manager);
    if (cut) {
      diags.push({
        code: 'FW_MANAGER_CUT_OFF',
        message: `with the failsafe disabled, ${cut} would cut this computer off from its manager`,
        severity: 'error',
        ...(policy.rules.find((r) => cut.includes(`"${r.name}"`))?.line
          ? { line: policy.rules.find((r) => cut.includes(`"${r.name}"`))!.line }
          : {}),
      });
    }
  } else if (!failsafe.manager) {
    diags.push({
      code: 'FW_NO_MANAGER',
      message: 'no manager address known: the failsafe only keeps management access open',
      severity: 'warning',
    });
  }

  const perLine = options.elementsPerLine ?? 16;
  const sets: Record<string, number> = {};
  const setLines: string[] = [];
  const hasBypass = policy.rules.some((r) => r.action === 'bypass');
  let ruleCount = 0;

  const emitSet = (name: string, type: string, elems: string[], extra: string[] = []) => {
    sets[name] = elems.length;
    const interval = !extra.includes('interval') && elems.some((e) => e.includes('/') || e.includes('-'));
    const flags = [...(interval ? ['interval'] : []), ...extra];
    setLines.push(`\tset ${name} {`, `\t\ttype ${type}`);
    if (flags.length) setLines.push(`\t\tflags ${flags.join(', ')}`);
    if (elems.length) {
      const chunks: string[] = [];
      for (let i = 0; i < elems.length; i += perLine) chunks.push(elems.slice(i, i + perLine).join(', '));
      setLines.push(`\t\telements = { ${chunks.join(',\n\t\t\t     ')} }`);
    }
    setLines.push('\t}');
  };

  // Named sets for reusable lists: one lookup however long the list is.
  const listSet = new Map<string, { 4?: string; 6?: string }>();
  for (const [name, ranges] of Object.entries(policy.lists.ip)) {
    const merged = mergeRanges(ranges);
    const entry: { 4?: string; 6?: string } = {};
    for (const fam of [4, 6] as const) {
      const elems = merged.filter((r) => r.family === fam).map(formatRange);
      if (!elems.length) continue;
      const setName = `ip_${name}_v${fam}`;
      emitSet(setName, fam === 4 ? 'ipv4_addr' : 'ipv6_addr', elems);
      entry[fam] = setName;
    }
    listSet.set(`ip:${name}`, entry);
  }
  for (const [name, ports] of Object.entries(policy.lists.port)) {
    if (!ports.length) continue;
    emitSet(`port_${name}`, 'inet_service', fmtPorts(ports));
    listSet.set(`port:${name}`, {});
  }
  for (const [name, macs] of Object.entries(policy.lists.mac)) {
    if (!macs.length) continue;
    emitSet(`mac_${name}`, 'ether_addr', [...new Set(macs)].sort());
    listSet.set(`mac:${name}`, {});
  }
  const staticBlock = mergeRanges(policy.blockList);
  for (const fam of [4, 6] as const) {
    const elems = staticBlock.filter((r) => r.family === fam).map(formatRange);
    if (elems.length) emitSet(`block${fam}`, fam === 4 ? 'ipv4_addr' : 'ipv6_addr', elems);
  }
  // Interval + timeout so that a playbook can block a whole CIDR for an hour. The kernel refuses
  // interval sets as targets of `add @set` from the packet path, so port-scan blocks get their own.
  emitSet(BLOCK_SETS[4], 'ipv4_addr', [], ['interval', 'timeout']);
  emitSet(BLOCK_SETS[6], 'ipv6_addr', [], ['interval', 'timeout']);
  if (policy.stateful.portScan?.blockSeconds) {
    emitSet('scanblock4', 'ipv4_addr', [], ['timeout']);
    emitSet('scanblock6', 'ipv6_addr', [], ['timeout']);
  }
  const ps = policy.stateful.portScan;
  if (ps) {
    for (const fam of [4, 6] as const) {
      emitSet(`scan${fam}`, fam === 4 ? 'ipv4_addr' : 'ipv6_addr', [], ['dynamic', 'timeout']);
      setLines.splice(
        setLines.length - 1,
        0,
        `\t\ttimeout 1${ps.unit === 'second' ? 's' : ps.unit === 'minute' ? 'm' : 'h'}`,
        '\t\tsize 65535',
      );
    }
  }
  const connLimit = policy.stateful.maxConnectionsPerSource;
  if (connLimit) {
    for (const fam of [4, 6] as const) {
      emitSet(`connlimit${fam}`, fam === 4 ? 'ipv4_addr' : 'ipv6_addr', [], ['dynamic']);
      setLines.splice(setLines.length - 1, 0, '\t\tsize 65535');
    }
  }

  // --- expressions of one rule for one family ---------------------------------------------
  const ipExpr = (fam: Fam | undefined, dir: 'saddr' | 'daddr', m: Match<AddressRange> | undefined): string | null | undefined => {
    if (!m || !fam) return undefined;
    const f = fam === 'ipv4' ? 4 : 6;
    const key = fam === 'ipv4' ? `ip ${dir}` : `ip6 ${dir}`;
    const op = m.not ? ' !=' : '';
    const named = m.list ? listSet.get(`ip:${m.list}`)?.[f] : undefined;
    if (named) return `${key}${op} @${named}`;
    const elems = mergeRanges(m.values.filter((r) => r.family === f)).map(formatRange);
    if (!elems.length) return m.not ? undefined : null; // null: can never match in this family
    return `${key}${op} ${anon(elems)}`;
  };
  const portExpr = (proto: string, dir: 'sport' | 'dport', m: Match<PortRange> | undefined) => {
    if (!m) return undefined;
    const op = m.not ? ' !=' : '';
    if (m.list && listSet.has(`port:${m.list}`)) return `${proto} ${dir}${op} @port_${m.list}`;
    return `${proto} ${dir}${op} ${anon(fmtPorts(m.values))}`;
  };

  const ruleExprs = (r: FirewallRule, fam: Fam | undefined): string[] | null => {
    const e: string[] = [];
    if (r.interface) {
      const key = r.direction === 'in' ? 'iifname' : 'oifname';
      e.push(`${key}${r.interface.not ? ' !=' : ''} ${anon(r.interface.values.map(quote))}`);
    }
    const src = ipExpr(fam, 'saddr', r.srcIp);
    const dst = ipExpr(fam, 'daddr', r.dstIp);
    if (src === null || dst === null) return null;
    if (fam && !src && !dst) e.push(`meta nfproto ${fam}`);
    if (src) e.push(src);
    if (dst) e.push(dst);
    if (r.srcMac) {
      const op = r.srcMac.not ? ' !=' : '';
      e.push(
        r.srcMac.list && listSet.has(`mac:${r.srcMac.list}`)
          ? `ether saddr${op} @mac_${r.srcMac.list}`
          : `ether saddr${op} ${anon(r.srcMac.values)}`,
      );
    }
    const protos = r.protocol?.values ?? [];
    const hasPorts = !!(r.srcPort || r.dstPort);
    const onlyProto = !r.protocol?.not && protos.length > 0 && protos.every((p) => p === protos[0]) ? protos[0] : undefined;
    // `tcp dport`, `tcp flags`, `icmp type` carry their own protocol dependency: an explicit
    // l4proto there would only cost nft time to load (it adds up over 10,000 rules).
    const implied =
      (onlyProto === 6 && (hasPorts || !!r.tcpFlags)) ||
      (onlyProto === 17 && hasPorts) ||
      ((onlyProto === 1 || onlyProto === 58) && !!r.icmp);
    if (r.protocol && !implied)
      e.push(`meta l4proto${r.protocol.not ? ' !=' : ''} ${anon([...new Set(protos)].map((p) => PROTO_NAMES[p] ?? String(p)))}`);
    else if (!r.protocol && hasPorts) e.push('meta l4proto { tcp, udp }');
    const portProto = onlyProto === 6 ? 'tcp' : onlyProto === 17 ? 'udp' : 'th';
    const sp = portExpr(portProto, 'sport', r.srcPort);
    const dp = portExpr(portProto, 'dport', r.dstPort);
    if (sp) e.push(sp);
    if (dp) e.push(dp);
    if (r.tcpFlags) {
      const mask = [...r.tcpFlags.set, ...r.tcpFlags.unset];
      const ordered = TCP_FLAGS.filter((f) => mask.includes(f));
      const set = TCP_FLAGS.filter((f) => r.tcpFlags!.set.includes(f));
      e.push(`tcp flags & (${ordered.join(' | ')}) == ${set.length ? set.join(' | ') : '0x0'}`);
    }
    if (r.icmp) {
      const v6 = onlyProto === 58;
      const names = v6 ? ICMPV6_NAMES : ICMP_NAMES;
      const key = v6 ? 'icmpv6' : 'icmp';
      e.push(`${key} type ${names[r.icmp.type] ?? r.icmp.type}`);
      if (r.icmp.code !== undefined) e.push(`${key} code ${r.icmp.code}`);
    }
    if (r.schedule) {
      const s = r.schedule;
      if (s.days.length && s.days.length < 7) e.push(`meta day ${anon(s.days.map((d) => quote(DAY_NAMES[d]!)))}`);
      if (!(s.start === 0 && s.end === 24 * 60)) {
        e.push(s.start < s.end ? `meta hour ${hourRange(s.start, s.end)}` : `meta hour != ${hourRange(s.end, s.start)}`);
      }
    }
    if (r.limit) e.push(`limit rate ${r.limit.rate}/${r.limit.unit}${r.limit.burst ? ` burst ${r.limit.burst} packets` : ''}`);
    return e;
  };

  const ruleFamilies = (r: FirewallRule): (Fam | undefined)[] => {
    let fams: Fam[] = r.frame === 'ipv4' || r.frame === 'ipv6' ? [r.frame] : ['ipv4', 'ipv6'];
    const protos = r.protocol && !r.protocol.not ? r.protocol.values : [];
    if (protos.length && protos.every((p) => p === 1)) fams = fams.filter((f) => f === 'ipv4');
    if (protos.length && protos.every((p) => p === 58)) fams = fams.filter((f) => f === 'ipv6');
    const ipFields = [r.srcIp, r.dstIp].filter((m) => m !== undefined);
    if (!r.frame && fams.length === 2 && ipFields.length === 0) return [undefined];
    // A positive address condition with no address of a family can never match in that family.
    const has = (f: Fam) => ipFields.every((m) => m.not || m.values.some((a) => a.family === (f === 'ipv4' ? 4 : 6)));
    return fams.filter(has);
  };

  const logPrefix = (kind: string, name: string) => quote(`pal ${kind} ${name}: `.slice(0, 120));
  const verdict = (r: FirewallRule) => (r.action === 'deny' ? 'drop' : r.action === 'log-only' ? '' : 'accept');

  let groupSerial = 0;
  const chains: Record<'input' | 'output', string[]> = { input: [], output: [] };
  const arpChains: Record<'input' | 'output', string[]> = { input: [], output: [] };
  const raw: Record<'input' | 'output', string[]> = { input: [], output: [] };
  const push = (list: string[], line: string) => {
    list.push(`\t\t${line}`);
    ruleCount++;
  };

  for (const dir of ['input', 'output'] as const) {
    const c = chains[dir];
    const inbound = dir === 'input';
    const peer = inbound ? 'saddr' : 'daddr';
    push(c, `${inbound ? 'iif' : 'oif'} "lo" accept`);
    // Failsafe first: nothing below, not even the block list, may cut management access.
    if (failsafe.enabled) {
      const m = failsafe.manager;
      if (m) {
        const k = m.address.family === 4 ? 'ip' : 'ip6';
        push(
          c,
          `${k} ${peer} ${formatRange(m.address)} tcp ${inbound ? 'sport' : 'dport'} ${m.port} counter accept comment "failsafe: manager"`,
        );
      }
      const ports = failsafe.adminPorts.length ? ` tcp ${inbound ? 'dport' : 'sport'} ${anon(fmtPorts(failsafe.adminPorts))}` : '';
      const srcs = mergeRanges(failsafe.adminSources);
      for (const fam of [4, 6] as const) {
        const elems = srcs.filter((r) => r.family === fam).map(formatRange);
        if (elems.length) push(c, `${fam === 4 ? 'ip' : 'ip6'} ${peer} ${anon(elems)}${ports} counter accept comment "failsafe: admin"`);
      }
      if (!srcs.length && ports) push(c, `meta l4proto tcp${ports} counter accept comment "failsafe: admin"`);
    }
    for (const fam of [4, 6] as const) {
      const k = fam === 4 ? 'ip' : 'ip6';
      push(c, `${k} ${peer} @${BLOCK_SETS[fam]} counter limit name "log_rate" log prefix ${logPrefix('block', 'dynamic')}`);
      push(c, `${k} ${peer} @${BLOCK_SETS[fam]} counter drop comment "dynamic block list"`);
      if (sets[`scanblock${fam}`] !== undefined) push(c, `${k} ${peer} @scanblock${fam} counter drop comment "port scan"`);
      if (sets[`block${fam}`] !== undefined) push(c, `${k} ${peer} @block${fam} counter drop comment "policy block list"`);
    }
    // IPv6 cannot work without neighbour discovery; an allow-list must not break it.
    push(c, 'icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept');
    const tracked = hasBypass ? 'ct state != untracked ' : '';
    if (policy.stateful.dropInvalid) push(c, 'ct state invalid counter drop comment "invalid"');
    if (policy.stateful.antiEvasion) {
      for (const [mask, value] of [
        ['fin | syn', 'fin | syn'],
        ['syn | rst', 'syn | rst'],
        ['fin | syn | rst | psh | ack | urg', '0x0'],
        ['fin | psh | urg', 'fin | psh | urg'],
        ['fin | ack', 'fin'],
      ] as const) {
        push(c, `${tracked}tcp flags & (${mask}) == ${value} counter drop comment "evasion"`);
      }
      if (policy.stateful.conntrack)
        push(c, 'ct state new tcp flags & (fin | syn | rst | ack) != syn counter drop comment "evasion: new without syn"');
    }
    if (inbound && connLimit) {
      push(c, `ct state new add @connlimit4 { ip saddr ct count over ${connLimit} } counter drop comment "connection limit"`);
      push(c, `ct state new add @connlimit6 { ip6 saddr ct count over ${connLimit} } counter drop comment "connection limit"`);
    }
    // The rules, in decision order.
    const ordered = ruleOrder(policy.rules).filter((r) => r.frame !== 'arp' && (r.direction === 'in') === inbound);
    const grouped = groupRules(ordered, options.groupMinRules ?? 16, ruleFamilies);
    for (const item of grouped) {
      if ('members' in item) {
        const name = `grp_${dir}_${++groupSerial}`;
        emitSet(name, item.types.join(' . '), item.elements, item.interval ? ['interval'] : []);
        const names = item.members.map((m) => m.name);
        const label = `group of ${names.length}: ${names.join(' ')}`.slice(0, 120);
        push(c, `${item.keys.join(' . ')} @${name} counter ${item.verdict} comment ${quote(label)}`);
        continue;
      }
      const r = item;
      for (const fam of ruleFamilies(r)) {
        const e = ruleExprs(r, fam);
        if (!e) continue;
        const m = e.join(' ');
        const v = verdict(r);
        if (r.action === 'log-only') {
          push(c, `${m} counter limit name "log_rate" log prefix ${logPrefix('log', r.name)} comment ${quote(r.name)}`);
          continue;
        }
        if (r.log) push(c, `${m} limit name "log_rate" log prefix ${logPrefix(r.action, r.name)}`);
        push(c, `${m} counter ${v} comment ${quote(r.name)}`);
        if (r.action === 'bypass') push(raw[dir], `${m} notrack comment ${quote(r.name)}`);
      }
    }
    if (policy.stateful.conntrack) push(c, 'ct state established,related counter accept comment "return traffic"');
    if (inbound && ps) {
      const rate = `limit rate over ${ps.threshold}/${ps.unit} burst ${ps.threshold} packets`;
      for (const fam of [4, 6] as const) {
        const k = fam === 4 ? 'ip' : 'ip6';
        const block = ps.blockSeconds ? ` add @scanblock${fam} { ${k} saddr timeout ${ps.blockSeconds}s }` : '';
        push(
          c,
          `ct state new update @scan${fam} { ${k} saddr ${rate} }${block} limit name "log_rate" log prefix ${logPrefix('scan', 'port-scan')}`,
        );
        if (ps.blockSeconds) push(c, `ct state new ${k} saddr @scanblock${fam} counter drop comment "port scan"`);
      }
    }
    // Implicit deny of every kind that has allow rules: "allow" means "only this".
    const kinds = new Set<Fam>();
    for (const r of policy.rules) {
      if (r.action !== 'allow' || r.frame === 'arp' || (r.direction === 'in') !== inbound) continue;
      for (const f of r.frame ? [r.frame] : (['ipv4', 'ipv6'] as const)) kinds.add(f as Fam);
    }
    if (kinds.size) {
      const sel = kinds.size === 2 ? 'meta nfproto { ipv4, ipv6 }' : `meta nfproto ${[...kinds][0]}`;
      push(c, `${sel} limit name "log_rate" log prefix ${logPrefix('deny', 'out-of-allowed')}`);
      push(c, `${sel} counter drop comment "out of allowed policy"`);
    }

    // ARP has its own family in nftables.
    const arpRules = ruleOrder(policy.rules).filter((r) => r.frame === 'arp' && (r.direction === 'in') === inbound);
    for (const r of arpRules) {
      const e: string[] = [];
      if (r.interface) e.push(`${inbound ? 'iifname' : 'oifname'}${r.interface.not ? ' !=' : ''} ${anon(r.interface.values.map(quote))}`);
      for (const [k, m] of [
        ['saddr', r.srcIp],
        ['daddr', r.dstIp],
      ] as const) {
        if (!m) continue;
        const elems = mergeRanges(m.values.filter((x) => x.family === 4)).map(formatRange);
        if (elems.length) e.push(`arp ${k} ip${m.not ? ' !=' : ''} ${anon(elems)}`);
      }
      if (r.srcMac) e.push(`arp saddr ether${r.srcMac.not ? ' !=' : ''} ${anon(r.srcMac.values)}`);
      if (r.log || r.action === 'log-only')
        push(arpChains[dir], `${e.join(' ')} limit name "log_rate" log prefix ${logPrefix(r.action, r.name)}`.trim());
      if (r.action !== 'log-only') push(arpChains[dir], `${e.join(' ')} counter ${verdict(r)} comment ${quote(r.name)}`.trim());
    }
    if (arpRules.some((r) => r.action === 'allow')) push(arpChains[dir], 'counter drop comment "out of allowed policy"');
  }

  const out: string[] = [];
  out.push(`# Palisade firewall policy ${quote(policy.name)}: generated, do not edit.`);
  out.push('# Re-declaring then deleting makes the replacement one atomic transaction that works whether');
  out.push('# or not the tables exist yet, and leaves every other table on the host alone.');
  out.push(`table inet ${TABLE_NAME}`, `delete table inet ${TABLE_NAME}`, `table arp ${TABLE_NAME}`, `delete table arp ${TABLE_NAME}`, '');
  out.push(`table inet ${TABLE_NAME} {`);
  out.push(`\tlimit log_rate {`, `\t\trate ${policy.logRate}/second`, '\t}');
  out.push(...setLines);
  for (const dir of ['input', 'output'] as const) {
    if (raw[dir].length) {
      out.push(
        `\tchain raw_${dir} {`,
        `\t\ttype filter hook ${dir === 'input' ? 'prerouting' : 'output'} priority raw; policy accept;`,
        ...raw[dir],
        '\t}',
      );
    }
  }
  for (const dir of ['input', 'output'] as const) {
    out.push(`\tchain ${dir} {`, `\t\ttype filter hook ${dir} priority filter; policy accept;`, ...chains[dir], '\t}');
  }
  out.push('}');
  if (arpChains.input.length || arpChains.output.length) {
    out.push('', `table arp ${TABLE_NAME} {`, `\tlimit log_rate {`, `\t\trate ${policy.logRate}/second`, '\t}');
    for (const dir of ['input', 'output'] as const) {
      out.push(`\tchain ${dir} {`, `\t\ttype filter hook ${dir} priority filter; policy accept;`, ...arpChains[dir], '\t}');
    }
    out.push('}');
  }
  return loadResult({ text: `${out.join('\n')}\n`, ruleCount, sets }, diags);
}

interface RuleGroup {
  members: FirewallRule[];
  verdict: 'accept' | 'drop';
  /** nft selector per concatenated field, e.g. `ip saddr`, `tcp dport`. */
  keys: string[];
  types: string[];
  elements: string[];
  interval: boolean;
}

type Interval = [bigint, bigint];

/**
 * Splits rules (already in decision order) into single rules and groups. A run is a maximal
 * sequence of consecutive groupable rules with the same verdict: reordering inside it cannot
 * change any verdict, so members of one shape can share one set lookup at the run's place.
 * Overlapping elements make nft refuse a concatenated interval set; such a shape stays as
 * single rules rather than being rewritten.
 */
function groupRules(
  ordered: FirewallRule[],
  min: number,
  families: (r: FirewallRule) => (Fam | undefined)[],
): (FirewallRule | RuleGroup)[] {
  if (min <= 0) return ordered;
  const out: (FirewallRule | RuleGroup)[] = [];
  const verdictOf = (r: FirewallRule) => (r.action === 'deny' ? 'drop' : 'accept');
  const shapes = new Map<FirewallRule, string | undefined>();
  const shapeOf = (r: FirewallRule): string | undefined => {
    if (!shapes.has(r)) shapes.set(r, computeShape(r));
    return shapes.get(r);
  };
  const computeShape = (r: FirewallRule): string | undefined => {
    if (
      r.action === 'log-only' ||
      r.action === 'bypass' ||
      r.log ||
      r.limit ||
      r.schedule ||
      r.interface ||
      r.srcMac ||
      r.tcpFlags ||
      r.icmp
    )
      return undefined;
    const fields = [r.srcIp, r.dstIp, r.srcPort, r.dstPort];
    if (fields.every((f) => !f) || fields.some((f) => f?.not)) return undefined;
    const protos = r.protocol?.values ?? [];
    if (r.protocol && (r.protocol.not || protos.length !== 1 || (protos[0] !== 6 && protos[0] !== 17))) return undefined;
    if (!r.protocol && (r.srcPort || r.dstPort)) return undefined;
    const fams = families(r);
    if (fams.length !== 1) return undefined;
    let product = 1;
    for (const f of fields) product *= f ? f.values.length : 1;
    if (product > 64) return undefined;
    return [fams[0] ?? 'any', protos[0] ?? '-', ...fields.map((f) => (f ? 1 : 0))].join('|');
  };
  let i = 0;
  while (i < ordered.length) {
    const first = ordered[i]!;
    if (shapeOf(first) === undefined) {
      out.push(first);
      i++;
      continue;
    }
    let j = i;
    while (j < ordered.length && shapeOf(ordered[j]!) !== undefined && verdictOf(ordered[j]!) === verdictOf(first)) j++;
    const run = ordered.slice(i, j);
    const byShape = new Map<string, FirewallRule[]>();
    for (const r of run) {
      const list = byShape.get(shapeOf(r)!);
      if (list) list.push(r);
      else byShape.set(shapeOf(r)!, [r]);
    }
    const emitted = new Set<string>();
    for (const r of run) {
      const shape = shapeOf(r)!;
      const members = byShape.get(shape)!;
      const group = members.length >= min && !emitted.has(shape) ? buildGroup(members, verdictOf(r), shape) : undefined;
      if (members.length >= min && emitted.has(shape)) continue;
      if (group) {
        emitted.add(shape);
        out.push(group);
      } else if (members.length >= min) {
        emitted.add(shape);
        out.push(...members);
      } else out.push(r);
    }
    i = j;
  }
  return out;
}

function buildGroup(members: FirewallRule[], verdict: 'accept' | 'drop', shape: string): RuleGroup | undefined {
  const [fam, proto, ...present] = shape.split('|');
  const v6 = fam === 'ipv6';
  const l4 = proto === '6' ? 'tcp' : 'udp';
  const keys: string[] = [];
  const types: string[] = [];
  const sel = ['saddr', 'daddr', 'sport', 'dport'];
  present.forEach((p, k) => {
    if (p !== '1') return;
    keys.push(k < 2 ? `${v6 ? 'ip6' : 'ip'} ${sel[k]}` : `${l4} ${sel[k]}`);
    types.push(k < 2 ? (v6 ? 'ipv6_addr' : 'ipv4_addr') : 'inet_service');
  });
  // Each member contributes the cartesian product of its field values.
  const tuples: { iv: Interval[]; text: string }[] = [];
  const seen = new Set<string>();
  for (const r of members) {
    let partial: { iv: Interval[]; parts: string[] }[] = [{ iv: [], parts: [] }];
    const fields = [r.srcIp, r.dstIp, r.srcPort, r.dstPort];
    fields.forEach((f, k) => {
      if (!f) return;
      const vals: { iv: Interval; text: string }[] =
        k < 2
          ? mergeRanges(f.values as AddressRange[]).map((a) => ({ iv: [a.start, a.end] as Interval, text: formatRange(a) }))
          : (f.values as PortRange[]).map((p) => ({
              iv: [BigInt(p.start), BigInt(p.end)] as Interval,
              text: p.start === p.end ? String(p.start) : `${p.start}-${p.end}`,
            }));
      partial = partial.flatMap((t) => vals.map((v) => ({ iv: [...t.iv, v.iv], parts: [...t.parts, v.text] })));
    });
    for (const t of partial) {
      const text = t.parts.join(' . ');
      if (seen.has(text)) continue;
      seen.add(text);
      tuples.push({ iv: t.iv, text });
    }
  }
  // Overlap check: sweep on the first field, compare the rest only among those overlapping there.
  tuples.sort((a, b) => (a.iv[0]![0] < b.iv[0]![0] ? -1 : a.iv[0]![0] > b.iv[0]![0] ? 1 : 0));
  const active: typeof tuples = [];
  let comparisons = 0;
  for (const t of tuples) {
    for (let k = active.length - 1; k >= 0; k--) if (active[k]!.iv[0]![1] < t.iv[0]![0]) active.splice(k, 1);
    for (const a of active) {
      if (++comparisons > 200_000) return undefined;
      if (a.iv.every((x, k) => x[0] <= t.iv[k]![1] && t.iv[k]![0] <= x[1])) return undefined;
    }
    active.push(t);
  }
  const interval = tuples.some((t) => t.iv.some((x) => x[0] !== x[1]));
  return { members, verdict, keys, types, elements: tuples.map((t) => t.text), interval };
}
