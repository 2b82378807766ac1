import { type AddressRange, parseAddress, rangesContain } from './address-range.ts';
import {
  type CtState,
  type Failsafe,
  type FirewallPolicy,
  type FirewallRule,
  type FrameType,
  type Match,
  type PortRange,
  TCP_FLAG_BITS,
  type TcpFlag,
} from './firewall-policy.ts';
import { ruleOrder } from './rule-order.ts';

/** One packet as the firewall sees it on this host. Addresses are text, as in a log line. */
export interface Packet {
  direction: 'in' | 'out';
  frame: FrameType;
  src?: string;
  dst?: string;
  protocol?: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: TcpFlag[];
  icmpType?: number;
  icmpCode?: number;
  srcMac?: string;
  /** The interface it arrives on (in) or leaves by (out). */
  iface?: string;
  /** What conntrack says; absent means `new`. */
  ctState?: CtState;
  /** Local time of the host: 0 = Sunday; minutes after midnight. Scheduled rules need it. */
  time?: { day: number; minute: number };
}

export interface EvaluationContext {
  /** The failsafe in force (see `effectiveFailsafe`); defaults to the policy's. */
  failsafe?: Failsafe;
  /** Addresses currently in the dynamic block list. */
  blocked?: AddressRange[];
}

export type VerdictReason =
  | 'loopback'
  | 'failsafe'
  | 'block-list'
  | 'neighbour-discovery'
  | 'invalid'
  | 'evasion'
  | 'rule'
  | 'return-traffic'
  | 'implicit-deny'
  | 'default';

export interface Verdict {
  verdict: 'accept' | 'drop';
  reason: VerdictReason;
  rule?: string;
  /** Names of log-only rules (and logging rules) that saw the packet. */
  logged: string[];
}

const ND_TYPES = new Set([133, 134, 135, 136]);

function addr(text: string | undefined, frame: FrameType): { family: 4 | 6; value: bigint } | undefined {
  if (!text) return undefined;
  const a = parseAddress(text);
  if (!a) return undefined;
  return (a.family === 4) === (frame === 'ipv4' || frame === 'arp') ? a : undefined;
}

function inRanges(m: Match<AddressRange>, a: { family: 4 | 6; value: bigint } | undefined): boolean {
  // An address we do not know is in no set: a positive match fails, a negated one holds. The
  // compiler's nft expressions behave the same for the only case this happens (the manager probe).
  const hit = a ? rangesContain(m.values, a.family, a.value) : false;
  if (m.not) {
    // `ip saddr != {v4 set}` says nothing about IPv6 packets: the compiler omits the test there.
    return !hit;
  }
  return hit;
}

function inPorts(m: Match<PortRange>, port: number | undefined): boolean {
  const hit = port !== undefined && m.values.some((r) => r.start <= port && port <= r.end);
  return m.not ? !hit : hit;
}

function ifaceMatches(pattern: string, iface: string): boolean {
  return pattern.endsWith('*') ? iface.startsWith(pattern.slice(0, -1)) : pattern === iface;
}

/** Whether one rule's conditions hold for a packet (its action is the caller's business). */
export function ruleMatches(r: FirewallRule, p: Packet): boolean {
  if ((r.direction === 'in') !== (p.direction === 'in')) return false;
  if (r.frame === 'arp' || p.frame === 'arp') {
    if (r.frame !== p.frame) return false;
  } else if (r.frame && r.frame !== p.frame) return false;
  if (r.interface) {
    const hit = p.iface !== undefined && r.interface.values.some((v) => ifaceMatches(v, p.iface!));
    if (hit === r.interface.not) return false;
  }
  const src = addr(p.src, p.frame);
  const dst = addr(p.dst, p.frame);
  if (r.srcIp && !inRanges(r.srcIp, src)) return false;
  if (r.dstIp && !inRanges(r.dstIp, dst)) return false;
  if (r.srcMac) {
    const hit = p.srcMac !== undefined && r.srcMac.values.includes(p.srcMac.toLowerCase());
    if (p.srcMac === undefined || hit === r.srcMac.not) return false;
  }
  if (p.frame === 'arp') return true;
  const proto = p.protocol;
  if (r.protocol) {
    const hit = proto !== undefined && r.protocol.values.includes(proto);
    if (hit === r.protocol.not) return false;
  } else if ((r.srcPort || r.dstPort) && proto !== 6 && proto !== 17) return false;
  // Port and flag matches only exist in packets that carry them.
  if (r.srcPort || r.dstPort) {
    if (proto !== 6 && proto !== 17 && proto !== 132) return false;
    if (r.srcPort && !inPorts(r.srcPort, p.srcPort)) return false;
    if (r.dstPort && !inPorts(r.dstPort, p.dstPort)) return false;
  }
  if (r.tcpFlags) {
    if (proto !== 6) return false;
    const flags = new Set(p.tcpFlags ?? []);
    if (!r.tcpFlags.set.every((f) => flags.has(f)) || r.tcpFlags.unset.some((f) => flags.has(f))) return false;
  }
  if (r.icmp) {
    if (proto !== 1 && proto !== 58) return false;
    if (p.icmpType !== r.icmp.type) return false;
    if (r.icmp.code !== undefined && p.icmpCode !== r.icmp.code) return false;
  }
  if (r.schedule) {
    // A packet without a time cannot be placed in a window; treating it as outside is the safe
    // reading for allow rules and the documented one for all.
    if (!p.time) return false;
    const s = r.schedule;
    if (s.days.length && !s.days.includes(p.time.day)) return false;
    const m = p.time.minute;
    const inside = s.start < s.end ? m >= s.start && m < s.end : m >= s.start || m < s.end;
    if (!inside) return false;
  }
  return true;
}

function flagBits(flags: readonly TcpFlag[] | undefined): number {
  return (flags ?? []).reduce((n, f) => n | TCP_FLAG_BITS[f], 0);
}

/**
 * The verdict the compiled ruleset gives a packet, computed from the model alone. It walks the
 * same order as the compiled chain (see `compileRuleset`), so tests can predict real traffic.
 * Not modelled: rate limits (assumed under the limit), port-scan and connection-limit counters.
 */
export function evaluatePacket(policy: FirewallPolicy, p: Packet, ctx: EvaluationContext = {}): Verdict {
  const logged: string[] = [];
  const done = (verdict: 'accept' | 'drop', reason: VerdictReason, rule?: string): Verdict => ({
    verdict,
    reason,
    ...(rule ? { rule } : {}),
    logged,
  });
  const inbound = p.direction === 'in';

  if (p.frame === 'arp') {
    const rules = ruleOrder(policy.rules).filter((r) => r.frame === 'arp' && (r.direction === 'in') === inbound);
    for (const r of rules) {
      if (!ruleMatches(r, p)) continue;
      if (r.log || r.action === 'log-only') logged.push(r.name);
      if (r.action === 'log-only') continue;
      return done(r.action === 'deny' ? 'drop' : 'accept', 'rule', r.name);
    }
    return rules.some((r) => r.action === 'allow') ? done('drop', 'implicit-deny') : done('accept', 'default');
  }

  if (p.iface === 'lo') return done('accept', 'loopback');
  const peer = addr(inbound ? p.src : p.dst, p.frame);
  const localPort = inbound ? p.dstPort : p.srcPort;
  const peerPort = inbound ? p.srcPort : p.dstPort;
  const fs = ctx.failsafe ?? policy.failsafe;
  if (fs.enabled) {
    const m = fs.manager;
    if (m && peer && p.protocol === 6 && peer.family === m.address.family && peer.value === m.address.start && peerPort === m.port) {
      return done('accept', 'failsafe');
    }
    const portOk =
      !fs.adminPorts.length ||
      (p.protocol === 6 && localPort !== undefined && fs.adminPorts.some((r) => r.start <= localPort && localPort <= r.end));
    if (fs.adminSources.length) {
      if (peer && rangesContain(fs.adminSources, peer.family, peer.value) && portOk) return done('accept', 'failsafe');
    } else if (fs.adminPorts.length && portOk) return done('accept', 'failsafe');
  }
  if (peer && ctx.blocked && rangesContain(ctx.blocked, peer.family, peer.value)) {
    logged.push('dynamic');
    return done('drop', 'block-list');
  }
  if (peer && rangesContain(policy.blockList, peer.family, peer.value)) return done('drop', 'block-list');
  if (p.protocol === 58 && p.icmpType !== undefined && ND_TYPES.has(p.icmpType)) return done('accept', 'neighbour-discovery');
  const ct = p.ctState ?? 'new';
  if (policy.stateful.dropInvalid && ct === 'invalid') return done('drop', 'invalid');
  const hasBypass = policy.rules.some((r) => r.action === 'bypass');
  if (policy.stateful.antiEvasion && p.protocol === 6 && !(hasBypass && ct === 'untracked')) {
    const f = flagBits(p.tcpFlags);
    const B = TCP_FLAG_BITS;
    const bad =
      (f & (B.fin | B.syn)) === (B.fin | B.syn) ||
      (f & (B.syn | B.rst)) === (B.syn | B.rst) ||
      (f & (B.fin | B.syn | B.rst | B.psh | B.ack | B.urg)) === 0 ||
      (f & (B.fin | B.psh | B.urg)) === (B.fin | B.psh | B.urg) ||
      (f & (B.fin | B.ack)) === B.fin;
    if (bad) return done('drop', 'evasion');
    if (policy.stateful.conntrack && ct === 'new' && (f & (B.fin | B.syn | B.rst | B.ack)) !== B.syn) return done('drop', 'evasion');
  }
  for (const r of ruleOrder(policy.rules)) {
    if (r.frame === 'arp' || !ruleMatches(r, p)) continue;
    if (r.log || r.action === 'log-only') logged.push(r.name);
    if (r.action === 'log-only') continue;
    return done(r.action === 'deny' ? 'drop' : 'accept', 'rule', r.name);
  }
  if (policy.stateful.conntrack && (ct === 'established' || ct === 'related')) return done('accept', 'return-traffic');
  const kindHasAllow = policy.rules.some(
    (r) => r.action === 'allow' && r.frame !== 'arp' && (r.direction === 'in') === inbound && (!r.frame || r.frame === p.frame),
  );
  if (kindHasAllow) {
    logged.push('out-of-allowed');
    return done('drop', 'implicit-deny');
  }
  return done('accept', 'default');
}

/** One connection attempt, seen from this host. */
export interface Connection {
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  /** `in`: a remote peer connects to this host; `out`: this host connects out. */
  initiator: 'in' | 'out';
  local: { ip: string; port?: number };
  remote: { ip: string; port?: number };
  localIface?: string;
  /** MAC address of the remote peer as seen on inbound frames. */
  remoteMac?: string;
  time?: Packet['time'];
}

export interface ConnectionOutcome {
  ok: boolean;
  steps: { packet: Packet; verdict: Verdict }[];
}

/**
 * Plays the packets a real exchange needs (TCP: SYN, SYN-ACK, ACK, a data segment back; UDP:
 * request and reply; ICMP: echo request and reply) through the evaluator, with the conntrack
 * state each would have, and says whether the exchange completes.
 */
export function simulateConnection(policy: FirewallPolicy, c: Connection, ctx: EvaluationContext = {}): ConnectionOutcome {
  const frame: FrameType = c.local.ip.includes(':') ? 'ipv6' : 'ipv4';
  const proto = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 }[c.protocol];
  const fwd = c.initiator; // direction of the initiator's packets as seen here
  const back = fwd === 'in' ? 'out' : 'in';
  const initiator = fwd === 'in' ? c.remote : c.local;
  const responder = fwd === 'in' ? c.local : c.remote;
  const mk = (dir: 'in' | 'out', from: typeof initiator, to: typeof initiator, extra: Partial<Packet>): Packet => ({
    direction: dir,
    frame,
    src: from.ip,
    dst: to.ip,
    protocol: proto,
    ...(proto === 6 || proto === 17 ? { srcPort: from.port, dstPort: to.port } : {}),
    ...(c.localIface ? { iface: c.localIface } : {}),
    ...(c.time ? { time: c.time } : {}),
    ...(dir === 'in' && c.remoteMac ? { srcMac: c.remoteMac } : {}),
    ...extra,
  });
  const plan: Packet[] = [];
  if (proto === 6) {
    plan.push(mk(fwd, initiator, responder, { tcpFlags: ['syn'] }));
    plan.push(mk(back, responder, initiator, { tcpFlags: ['syn', 'ack'] }));
    plan.push(mk(fwd, initiator, responder, { tcpFlags: ['ack'] }));
    plan.push(mk(back, responder, initiator, { tcpFlags: ['psh', 'ack'] }));
  } else if (proto === 17) {
    plan.push(mk(fwd, initiator, responder, {}));
    plan.push(mk(back, responder, initiator, {}));
  } else {
    const v6 = proto === 58;
    plan.push(mk(fwd, initiator, responder, { icmpType: v6 ? 128 : 8, icmpCode: 0 }));
    plan.push(mk(back, responder, initiator, { icmpType: v6 ? 129 : 0, icmpCode: 0 }));
  }
  const bypassed = (p: Packet) => policy.rules.some((r) => r.action === 'bypass' && ruleMatches(r, { ...p, ctState: 'new' }));
  const steps: ConnectionOutcome['steps'] = [];
  // What Linux conntrack makes of the packets it sees (bypassed ones are `notrack`ed and
  // invisible to it): 'none' = no entry; 'syn' = SYN seen, waiting for SYN-ACK; 'open'.
  // A TCP SYN-ACK, or an ICMP echo reply, without an entry is INVALID; a TCP ACK without one is
  // picked up as new (nf_conntrack_tcp_loose=1, the default); an ACK from the initiator while
  // the SYN-ACK was never seen is INVALID. Entries only come into being for accepted packets.
  let ct = 'none' as 'none' | 'syn' | 'open';
  for (const p0 of plan) {
    let ctState: CtState;
    let next: typeof ct = ct;
    if (bypassed(p0)) ctState = 'untracked';
    else if (proto === 6) {
      const f = new Set(p0.tcpFlags);
      const fromInitiator = p0.direction === fwd;
      if (ct === 'none') {
        if (f.has('syn') && !f.has('ack')) [ctState, next] = ['new', 'syn'];
        else if (f.has('syn')) ctState = 'invalid';
        else [ctState, next] = ['new', 'open'];
      } else if (ct === 'syn') {
        if (!fromInitiator && f.has('syn') && f.has('ack')) [ctState, next] = ['established', 'open'];
        else ctState = fromInitiator && f.has('syn') ? 'new' : 'invalid';
      } else ctState = 'established';
    } else if (proto === 17) {
      [ctState, next] = ct === 'none' ? ['new', 'open'] : ['established', 'open'];
    } else {
      const request = p0.icmpType === 8 || p0.icmpType === 128;
      if (ct === 'none') [ctState, next] = request ? ['new', 'open'] : ['invalid', 'none'];
      else ctState = 'established';
    }
    const p = { ...p0, ctState };
    const v = evaluatePacket(policy, p, ctx);
    steps.push({ packet: p, verdict: v });
    if (v.verdict === 'drop') return { ok: false, steps };
    ct = next;
  }
  return { ok: true, steps };
}

/**
 * Describes what would stop this computer from reaching its manager (an outbound TCP connection
 * to manager:port) if the failsafe were off, or undefined when the policy lets it through.
 */
export function evaluateManagerReach(policy: FirewallPolicy, manager: { address: AddressRange; port: number }): string | undefined {
  const fam = manager.address.family;
  const ip = fam === 4 ? '0.0.0.0' : '::';
  const remote = formatManager(manager.address);
  const outcome = simulateConnection(
    policy,
    { protocol: 'tcp', initiator: 'out', local: { ip, port: 40000 }, remote: { ip: remote, port: manager.port } },
    { failsafe: { ...policy.failsafe, enabled: false } },
  );
  if (outcome.ok) return undefined;
  const last = outcome.steps[outcome.steps.length - 1]!;
  const v = last.verdict;
  const what = v.rule ? `rule "${v.rule}"` : v.reason === 'implicit-deny' ? 'the implicit deny of the allow rules' : v.reason;
  return `${what} (${last.packet.direction === 'out' ? 'to' : 'from'} ${remote} port ${manager.port})`;
}

function formatManager(a: AddressRange): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.start >> s) & 255n)).join('.');
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((a.start >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(':');
}
