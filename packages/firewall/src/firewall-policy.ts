import type { AddressRange } from './address-range.ts';

export type FirewallAction = 'allow' | 'deny' | 'force-allow' | 'bypass' | 'log-only';
export type Direction = 'in' | 'out';
export type FrameType = 'ipv4' | 'ipv6' | 'arp';
export type TcpFlag = 'fin' | 'syn' | 'rst' | 'psh' | 'ack' | 'urg' | 'ecn' | 'cwr';
export type CtState = 'new' | 'established' | 'related' | 'invalid' | 'untracked';

/** At equal priority the stronger action wins; bypass sits above force-allow (it also skips inspection). */
export const ACTION_RANK: Record<FirewallAction, number> = {
  bypass: 4,
  'force-allow': 3,
  deny: 2,
  allow: 1,
  'log-only': 0,
};

export interface PortRange {
  start: number;
  end: number;
}

/** A field condition; `not` inverts it. `list` names the reusable list it came from, if it is exactly one. */
export interface Match<T> {
  values: T[];
  not: boolean;
  list?: string;
}

export interface Schedule {
  name: string;
  /** 0 = Sunday … 6 = Saturday; empty = every day. */
  days: number[];
  /** Minutes after midnight, local time of the host; end is exclusive. start > end wraps midnight. */
  start: number;
  end: number;
}

export interface RateLimit {
  rate: number;
  unit: 'second' | 'minute' | 'hour' | 'day';
  burst?: number;
}

export interface FirewallRule {
  name: string;
  action: FirewallAction;
  priority: number;
  direction: Direction;
  /** Absent: IPv4 and IPv6. */
  frame?: FrameType;
  /** IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6). */
  protocol?: Match<number>;
  tcpFlags?: { set: TcpFlag[]; unset: TcpFlag[] };
  icmp?: { type: number; code?: number };
  srcIp?: Match<AddressRange>;
  dstIp?: Match<AddressRange>;
  srcPort?: Match<PortRange>;
  dstPort?: Match<PortRange>;
  srcMac?: Match<string>;
  interface?: Match<string>;
  schedule?: Schedule;
  limit?: RateLimit;
  log: boolean;
  /** Where the rule was written, for diagnostics and event messages. */
  line?: number;
}

export interface StatefulOptions {
  /** Accept packets of connections already accepted (return traffic) once the rules had their say. */
  conntrack: boolean;
  /** Drop packets conntrack classifies as invalid. */
  dropInvalid: boolean;
  /** Drop TCP flag combinations no real stack sends (null, xmas, syn+fin, syn+rst, new without syn). */
  antiEvasion: boolean;
  /** Reconnaissance detection: new inbound connections nothing accepted, counted per source. */
  portScan?: { threshold: number; unit: 'second' | 'minute' | 'hour'; blockSeconds?: number };
  /** New connections from one source beyond this many concurrent ones are dropped. */
  maxConnectionsPerSource?: number;
}

export interface Failsafe {
  /** When false the compiler refuses policies whose rules would cut the manager off. */
  enabled: boolean;
  manager?: { address: AddressRange; port: number };
  adminSources: AddressRange[];
  adminPorts: PortRange[];
}

export interface FirewallPolicy {
  name: string;
  rules: FirewallRule[];
  lists: {
    ip: Record<string, AddressRange[]>;
    port: Record<string, PortRange[]>;
    mac: Record<string, string[]>;
  };
  stateful: StatefulOptions;
  failsafe: Failsafe;
  /** Firewall events logged per second for the whole policy; the rest are only counted. */
  logRate: number;
  /** Addresses blocked with the policy itself (not the dynamic block list). */
  blockList: AddressRange[];
}

export const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, gre: 47, esp: 50, ah: 51, sctp: 132 };
export const TCP_FLAGS: readonly TcpFlag[] = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ecn', 'cwr'];
export const TCP_FLAG_BITS: Record<TcpFlag, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 };
export const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export const ICMP_TYPES: Record<string, number> = {
  'echo-reply': 0,
  'destination-unreachable': 3,
  redirect: 5,
  'echo-request': 8,
  'time-exceeded': 11,
  'parameter-problem': 12,
  'timestamp-request': 13,
  'timestamp-reply': 14,
};
export const ICMPV6_TYPES: Record<string, number> = {
  'destination-unreachable': 1,
  'packet-too-big': 2,
  'time-exceeded': 3,
  'parameter-problem': 4,
  'echo-request': 128,
  'echo-reply': 129,
  'nd-router-solicit': 133,
  'nd-router-advert': 134,
  'nd-neighbor-solicit': 135,
  'nd-neighbor-advert': 136,
};

export function emptyPolicy(name = 'policy'): FirewallPolicy {
  return {
    name,
    rules: [],
    lists: { ip: {}, port: {}, mac: {} },
    stateful: { conntrack: true, dropInvalid: true, antiEvasion: false },
    failsafe: { enabled: true, adminSources: [], adminPorts: [] },
    logRate: 10,
    blockList: [],
  };
}
