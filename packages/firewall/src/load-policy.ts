import { type Diagnostic, LineIndex, type LoadResult, loadResult } from '@palisade/diagnostics';
import { Document, isMap, isScalar, isSeq, type Node, parseDocument, type YAMLMap } from 'yaml';
import { type AddressRange, parseAddressRange } from './address-range.ts';
import {
  DAY_NAMES,
  type Direction,
  emptyPolicy,
  type FirewallAction,
  type FirewallPolicy,
  type FirewallRule,
  type FrameType,
  ICMP_TYPES,
  ICMPV6_TYPES,
  type Match,
  PROTOCOLS,
  type PortRange,
  type RateLimit,
  type Schedule,
  TCP_FLAGS,
  type TcpFlag,
} from './firewall-policy.ts';

const ACTIONS: readonly FirewallAction[] = ['allow', 'deny', 'force-allow', 'bypass', 'log-only'];
const FRAMES: readonly FrameType[] = ['ipv4', 'ipv6', 'arp'];
const RULE_KEYS = new Set([
  'name',
  'action',
  'priority',
  'direction',
  'frame',
  'protocol',
  'tcpFlags',
  'icmp',
  'srcIp',
  'dstIp',
  'srcPort',
  'dstPort',
  'srcMac',
  'interface',
  'schedule',
  'limit',
  'log',
  'comment',
]);
const TOP_KEYS = new Set(['name', 'logRate', 'failsafe', 'stateful', 'lists', 'schedules', 'blockList', 'rules', 'description']);
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME_RE = /^[A-Za-z0-9_.:@+-]{1,15}\*?$/;

/**
 * Reads a firewall policy written in YAML. Every problem is reported with its line and column,
 * and the policy is refused as a whole when any of them is an error: a half-loaded firewall
 * policy would silently open or close ports nobody asked for.
 */
export function loadPolicy(text: string, file = 'policy.yaml'): LoadResult<FirewallPolicy> {
  // Machine-written policies (the manager's) come as JSON, which is YAML too; the YAML parser
  // takes ~8 s on a 3 MB policy, JSON.parse plus building the same node tree ~1.7 s. The tree
  // built from JSON has no source positions, so a policy with errors is parsed again the slow
  // way to report them with line and column.
  if (text.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value !== undefined) {
      const fast = loadFromDocument(new Document(value), text, file);
      if (fast.ok) return fast;
    }
  }
  return loadFromDocument(parseDocument(text, { prettyErrors: false, uniqueKeys: true }), text, file);
}

function loadFromDocument(doc: Document.Parsed | Document, text: string, file: string): LoadResult<FirewallPolicy> {
  const diags: Diagnostic[] = [];
  const lines = new LineIndex(text);
  const at = (node: Node | null | undefined): { line?: number; column?: number } => {
    const where = (node as { where?: { line: number; column: number } } | null | undefined)?.where;
    if (where) return where;
    const off = node?.range?.[0];
    return off === undefined ? {} : lines.position(off);
  };
  const err = (code: string, message: string, node?: Node | null) => diags.push({ code, message, severity: 'error', file, ...at(node) });
  const warn = (code: string, message: string, node?: Node | null) => diags.push({ code, message, severity: 'warning', file, ...at(node) });

  for (const e of doc.errors) {
    const p = lines.position(e.pos[0]);
    diags.push({ code: 'FW_YAML_SYNTAX', message: e.message.split('\n')[0]!, severity: 'error', file, ...p });
  }
  const policy = emptyPolicy();
  if (doc.errors.length) return loadResult(policy, diags);
  const root = doc.contents;
  if (!isMap(root)) {
    err('FW_SCHEMA', 'a policy is a mapping with at least `rules:`', root);
    return loadResult(policy, diags);
  }

  const entries = (map: YAMLMap, allowed: Set<string> | undefined, what: string) => {
    const out = new Map<string, Node | null>();
    for (const pair of map.items) {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      if (allowed && !allowed.has(key)) {
        err('FW_UNKNOWN_KEY', `unknown key "${key}" in ${what}`, keyNode);
        continue;
      }
      out.set(key, (pair.value as Node | null) ?? null);
    }
    return out;
  };
  const str = (node: Node | null | undefined, what: string): string | undefined => {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) return String(node.value);
    err('FW_SCHEMA', `${what} must be a string`, node);
    return undefined;
  };
  const int = (node: Node | null | undefined, what: string, min: number, max: number): number | undefined => {
    const v = isScalar(node) ? node.value : undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      err('FW_SCHEMA', `${what} must be an integer from ${min} to ${max}`, node);
      return undefined;
    }
    return n;
  };
  const bool = (node: Node | null | undefined, what: string): boolean | undefined => {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    err('FW_SCHEMA', `${what} must be true or false`, node);
    return undefined;
  };
  /** Scalars or a sequence of scalars, each with its node for positions. */
  const items = (node: Node | null | undefined): { text: string; node: Node }[] => {
    if (isSeq(node)) {
      return node.items.flatMap((n) => items(n as Node));
    }
    if (isScalar(node) && typeof node.value === 'string' && node.value.includes('\n')) {
      // A block scalar (`bad: |` then one entry per line) parses about ten times faster than a
      // YAML sequence, which matters for lists of 100,000 addresses. Positions point at the line.
      const base = at(node).line ?? 1;
      const isBlock = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
      const out: { text: string; node: Node }[] = [];
      node.value.split('\n').forEach((line, i) => {
        const text = line.replace(/#.*/, '').trim();
        if (!text) return;
        const where = { line: base + i + (isBlock ? 1 : 0), column: 1 };
        for (const part of text.split(/[\s,]+/).filter(Boolean))
          out.push({ text: part, node: { ...node, range: undefined, where } as unknown as Node });
      });
      return out;
    }
    if (isScalar(node) && node.value !== null) return [{ text: String(node.value), node }];
    err('FW_SCHEMA', 'expected a value or a list of values', node);
    return [];
  };
  const duration = (node: Node | null | undefined, what: string): number | undefined => {
    const t = isScalar(node) ? String(node.value) : '';
    const m = /^(\d+)\s*(s|m|h|d)?$/.exec(t);
    if (!m) {
      err('FW_SCHEMA', `${what} must be a duration like 600, 10m, 1h or 1d`, node);
      return undefined;
    }
    const mult = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'];
    return Number(m[1]) * mult;
  };

  // --- parsing of single values -----------------------------------------------------------
  const parsePort = (t: string, node: Node): PortRange | undefined => {
    const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(t.trim());
    const start = m ? Number(m[1]) : NaN;
    const end = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || start > 65535 || end > 65535 || start > end) {
      err('FW_BAD_PORT', `"${t}" is not a port or port range (0-65535)`, node);
      return undefined;
    }
    return { start, end };
  };
  const parseMac = (t: string, node: Node): string | undefined => {
    const v = t.trim().toLowerCase().replaceAll('-', ':');
    if (!MAC_RE.test(v)) {
      err('FW_BAD_MAC', `"${t}" is not a MAC address (aa:bb:cc:dd:ee:ff)`, node);
      return undefined;
    }
    return v;
  };
  const parseAddr = (t: string, node: Node): AddressRange | undefined => {
    const r = parseAddressRange(t);
    if (typeof r === 'string') {
      err('FW_BAD_ADDRESS', r, node);
      return undefined;
    }
    return r;
  };

  // --- lists and schedules come first: rules refer to them -------------------------------------
  const top = entries(root, TOP_KEYS, 'the policy');
  if (top.has('name')) policy.name = str(top.get('name'), 'name') ?? policy.name;
  if (top.has('logRate')) policy.logRate = int(top.get('logRate'), 'logRate', 1, 100000) ?? policy.logRate;

  const listsNode = top.get('lists');
  if (listsNode !== undefined) {
    if (!isMap(listsNode)) err('FW_SCHEMA', 'lists must be a mapping with ip:, port:, mac:', listsNode);
    else {
      for (const [kind, node] of entries(listsNode, new Set(['ip', 'port', 'mac']), 'lists')) {
        if (!isMap(node)) {
          err('FW_SCHEMA', `lists.${kind} must map list names to values`, node);
          continue;
        }
        for (const [name, valueNode] of entries(node, undefined, `lists.${kind}`)) {
          if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(name)) {
            err('FW_BAD_LIST_NAME', `list name "${name}" must be a letter then letters, digits or _ (max 41)`, valueNode);
            continue;
          }
          const vals = items(valueNode);
          if (kind === 'ip') policy.lists.ip[name] = vals.map((v) => parseAddr(v.text, v.node)).filter((x) => x !== undefined);
          else if (kind === 'port') policy.lists.port[name] = vals.map((v) => parsePort(v.text, v.node)).filter((x) => x !== undefined);
          else policy.lists.mac[name] = vals.map((v) => parseMac(v.text, v.node)).filter((x) => x !== undefined);
        }
      }
    }
  }

  const schedules = new Map<string, Schedule>();
  const schedNode = top.get('schedules');
  if (schedNode !== undefined) {
    if (!isMap(schedNode)) err('FW_SCHEMA', 'schedules must map names to {days, from, to}', schedNode);
    else {
      for (const [name, node] of entries(schedNode, undefined, 'schedules')) {
        if (!isMap(node)) {
          err('FW_BAD_SCHEDULE', `schedule "${name}" must be a mapping with days, from, to`, node);
          continue;
        }
        const s: Schedule = { name, days: [], start: 0, end: 24 * 60 };
        const f = entries(node, new Set(['days', 'from', 'to']), `schedule "${name}"`);
        if (f.has('days')) {
          for (const d of items(f.get('days'))) {
            const i = DAY_NAMES.findIndex((n) => n.toLowerCase().startsWith(d.text.toLowerCase().slice(0, 3)) && d.text.length >= 3);
            if (i < 0) err('FW_BAD_SCHEDULE', `"${d.text}" is not a day (mon, tue, … or Monday, …)`, d.node);
            else if (!s.days.includes(i)) s.days.push(i);
          }
          s.days.sort();
        }
        for (const k of ['from', 'to'] as const) {
          if (!f.has(k)) continue;
          const t = isScalar(f.get(k)) ? String((f.get(k) as { value: unknown }).value) : '';
          const m = /^(\d{1,2}):(\d{2})$/.exec(t);
          const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
          if (!m || Number(m[2]) > 59 || minutes > 24 * 60) err('FW_BAD_SCHEDULE', `${k} must be a time HH:MM, got "${t}"`, f.get(k));
          else if (k === 'from') s.start = minutes;
          else s.end = minutes;
        }
        if (s.start === s.end) err('FW_BAD_SCHEDULE', `schedule "${name}" is empty (from equals to)`, node);
        schedules.set(name, s);
      }
    }
  }

  // --- failsafe, stateful -----------------------------------------------------------------
  const fsNode = top.get('failsafe');
  if (fsNode !== undefined) {
    if (!isMap(fsNode)) err('FW_SCHEMA', 'failsafe must be a mapping', fsNode);
    else {
      const f = entries(fsNode, new Set(['enabled', 'manager', 'adminSources', 'adminPorts']), 'failsafe');
      if (f.has('enabled')) policy.failsafe.enabled = bool(f.get('enabled'), 'failsafe.enabled') ?? true;
      if (f.has('manager')) {
        const node = f.get('manager');
        const t = isScalar(node) ? String(node.value) : '';
        const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(t);
        const addr = m ? parseAddressRange(m[1]!) : undefined;
        if (!m || !addr || typeof addr === 'string' || addr.start !== addr.end || Number(m[2]) > 65535) {
          err('FW_BAD_ADDRESS', `failsafe.manager must be ADDRESS:PORT (IPv6 as [addr]:port), got "${t}"`, node);
        } else policy.failsafe.manager = { address: addr, port: Number(m[2]) };
      }
      if (f.has('adminSources')) {
        policy.failsafe.adminSources = items(f.get('adminSources'))
          .map((v) => parseAddr(v.text, v.node))
          .filter((x) => x !== undefined);
      }
      if (f.has('adminPorts')) {
        policy.failsafe.adminPorts = items(f.get('adminPorts'))
          .map((v) => parsePort(v.text, v.node))
          .filter((x) => x !== undefined);
      }
    }
  }

  const stNode = top.get('stateful');
  if (stNode !== undefined) {
    if (!isMap(stNode)) err('FW_SCHEMA', 'stateful must be a mapping', stNode);
    else {
      const f = entries(stNode, new Set(['conntrack', 'dropInvalid', 'antiEvasion', 'portScan', 'maxConnectionsPerSource']), 'stateful');
      for (const k of ['conntrack', 'dropInvalid', 'antiEvasion'] as const) {
        if (f.has(k)) policy.stateful[k] = bool(f.get(k), `stateful.${k}`) ?? policy.stateful[k];
      }
      if (f.has('maxConnectionsPerSource')) {
        policy.stateful.maxConnectionsPerSource = int(f.get('maxConnectionsPerSource'), 'stateful.maxConnectionsPerSource', 1, 1_000_000);
      }
      const ps = f.get('portScan');
      if (ps !== undefined) {
        if (!isMap(ps)) err('FW_SCHEMA', 'stateful.portScan must be {threshold, per, blockFor}', ps);
        else {
          const p = entries(ps, new Set(['threshold', 'per', 'blockFor']), 'stateful.portScan');
          const threshold = int(p.get('threshold'), 'portScan.threshold', 1, 1_000_000);
          const per = p.has('per') ? str(p.get('per'), 'portScan.per') : 'minute';
          if (per !== undefined && !['second', 'minute', 'hour'].includes(per)) {
            err('FW_SCHEMA', 'portScan.per must be second, minute or hour', p.get('per'));
          }
          const blockSeconds = p.has('blockFor') ? duration(p.get('blockFor'), 'portScan.blockFor') : undefined;
          if (threshold !== undefined) {
            policy.stateful.portScan = { threshold, unit: (per ?? 'minute') as 'minute', ...(blockSeconds ? { blockSeconds } : {}) };
          }
        }
      }
      if (policy.stateful.antiEvasion && !policy.stateful.conntrack) {
        warn('FW_EVASION_NEEDS_CONNTRACK', 'antiEvasion without conntrack only checks flag combinations, not "new without SYN"', stNode);
      }
    }
  }

  if (top.has('blockList')) {
    policy.blockList = items(top.get('blockList'))
      .map((v) => parseAddr(v.text, v.node))
      .filter((x) => x !== undefined);
  }

  // --- rules ------------------------------------------------------------------------------
  const listRef = (t: string) => (t.startsWith('@') ? t.slice(1) : undefined);
  function field<T>(
    node: Node | null | undefined,
    lists: Record<string, T[]>,
    kind: string,
    parse: (t: string, n: Node) => T | undefined,
  ): Match<T> | undefined {
    let not = false;
    let inner = node;
    if (isMap(node)) {
      const f = entries(node, new Set(['not']), 'a field (only {not: …} is allowed)');
      inner = f.get('not');
      not = true;
      if (inner === undefined) return undefined;
    }
    const vals = items(inner);
    const m: Match<T> = { values: [], not };
    const refs = vals.filter((v) => listRef(v.text) !== undefined);
    for (const v of vals) {
      const ref = listRef(v.text);
      if (ref !== undefined) {
        const list = lists[ref];
        if (!list) err('FW_UNKNOWN_LIST', `no ${kind} list named "${ref}"`, v.node);
        else m.values.push(...list);
      } else {
        const p = parse(v.text, v.node);
        if (p !== undefined) m.values.push(p);
      }
    }
    if (refs.length === 1 && vals.length === 1) m.list = listRef(refs[0]!.text);
    if (vals.length === 0) err('FW_SCHEMA', `empty ${kind} condition`, node);
    return m;
  }

  const rulesNode = top.get('rules');
  if (rulesNode === undefined || rulesNode === null) warn('FW_NO_RULES', 'the policy has no rules: all traffic is accepted', root);
  else if (!isSeq(rulesNode)) err('FW_SCHEMA', 'rules must be a list', rulesNode);
  else {
    const names = new Set<string>();
    rulesNode.items.forEach((rn, idx) => {
      const node = rn as Node;
      if (!isMap(node)) {
        err('FW_SCHEMA', 'each rule must be a mapping', node);
        return;
      }
      const f = entries(node, RULE_KEYS, 'a rule');
      const before = diags.filter((d) => d.severity === 'error').length;
      const rule: FirewallRule = {
        name: `rule-${idx + 1}`,
        action: 'deny',
        priority: 2,
        direction: 'in',
        log: false,
        ...(at(node).line !== undefined ? { line: at(node).line } : {}),
      };
      if (f.has('name')) {
        const n = str(f.get('name'), 'name');
        if (n !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(n)) {
          err('FW_BAD_RULE_NAME', `rule name "${n}" must be letters, digits, _ . - (max 64): it appears in log prefixes`, f.get('name'));
        } else if (n !== undefined) rule.name = n;
      }
      if (names.has(rule.name)) err('FW_DUPLICATE_RULE', `two rules are named "${rule.name}"`, f.get('name') ?? node);
      names.add(rule.name);

      if (!f.has('action')) err('FW_BAD_ACTION', 'a rule needs an action: allow, deny, force-allow, bypass or log-only', node);
      else {
        const a = str(f.get('action'), 'action');
        if (a !== undefined && !ACTIONS.includes(a as FirewallAction)) {
          err('FW_BAD_ACTION', `unknown action "${a}" (allow, deny, force-allow, bypass, log-only)`, f.get('action'));
        } else if (a !== undefined) rule.action = a as FirewallAction;
      }
      if (f.has('priority')) {
        const p = isScalar(f.get('priority')) ? (f.get('priority') as { value: unknown }).value : undefined;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 4) {
          err('FW_BAD_PRIORITY', 'priority must be 0, 1, 2, 3 or 4 (4 is the highest)', f.get('priority'));
        } else rule.priority = p;
      }
      if (f.has('direction')) {
        const d = str(f.get('direction'), 'direction');
        if (d !== 'in' && d !== 'out') err('FW_SCHEMA', 'direction must be in or out', f.get('direction'));
        else rule.direction = d as Direction;
      }
      if (f.has('frame')) {
        const fr = str(f.get('frame'), 'frame');
        if (fr === 'other')
          err('FW_FRAME_UNSUPPORTED', 'frame "other" (non-IP, non-ARP) is not supported by the nftables backend yet', f.get('frame'));
        else if (!FRAMES.includes(fr as FrameType)) err('FW_SCHEMA', 'frame must be ipv4, ipv6 or arp', f.get('frame'));
        else rule.frame = fr as FrameType;
      }
      if (f.has('protocol')) {
        rule.protocol = field(f.get('protocol'), {}, 'protocol', (t, n) => {
          const v = PROTOCOLS[t.toLowerCase()] ?? (/^\d{1,3}$/.test(t) && Number(t) <= 255 ? Number(t) : undefined);
          if (v === undefined) err('FW_BAD_PROTOCOL', `unknown protocol "${t}" (tcp, udp, icmp, icmpv6 or a number 0-255)`, n);
          return v;
        });
      }
      const protos = rule.protocol && !rule.protocol.not ? rule.protocol.values : undefined;
      const only = (p: number) => protos !== undefined && protos.length > 0 && protos.every((x) => x === p);
      if (f.has('tcpFlags')) {
        const t = str(f.get('tcpFlags'), 'tcpFlags') ?? '';
        const set: TcpFlag[] = [];
        const unset: TcpFlag[] = [];
        for (const part of t.split(/[\s,]+/).filter(Boolean)) {
          const neg = part.startsWith('!');
          const flag = (neg ? part.slice(1) : part).toLowerCase() as TcpFlag;
          if (!TCP_FLAGS.includes(flag))
            err(
              'FW_BAD_TCP_FLAGS',
              `unknown TCP flag "${part}" (fin syn rst psh ack urg ecn cwr, ! to require it clear)`,
              f.get('tcpFlags'),
            );
          else (neg ? unset : set).push(flag);
        }
        if (!only(6)) err('FW_BAD_TCP_FLAGS', 'tcpFlags needs protocol: tcp', f.get('tcpFlags'));
        rule.tcpFlags = { set, unset };
      }
      if (f.has('icmp')) {
        const icmpNode = f.get('icmp');
        const v6 = only(58);
        if (!only(1) && !v6) err('FW_BAD_ICMP', 'icmp needs protocol: icmp or icmpv6', icmpNode);
        const names = v6 ? ICMPV6_TYPES : ICMP_TYPES;
        const parseType = (n: Node | null | undefined) => {
          const t = isScalar(n) ? String(n.value) : '';
          const v = names[t] ?? (/^\d{1,3}$/.test(t) && Number(t) <= 255 ? Number(t) : undefined);
          if (v === undefined) err('FW_BAD_ICMP', `unknown ICMP${v6 ? 'v6' : ''} type "${t}"`, n);
          return v;
        };
        if (isMap(icmpNode)) {
          const fi = entries(icmpNode, new Set(['type', 'code']), 'icmp');
          const type = parseType(fi.get('type'));
          const code = fi.has('code') ? int(fi.get('code'), 'icmp.code', 0, 255) : undefined;
          if (type !== undefined) rule.icmp = { type, ...(code !== undefined ? { code } : {}) };
        } else {
          const type = parseType(icmpNode);
          if (type !== undefined) rule.icmp = { type };
        }
      }
      for (const k of ['srcIp', 'dstIp'] as const) {
        if (f.has(k)) rule[k] = field(f.get(k), policy.lists.ip, 'ip', parseAddr);
      }
      for (const k of ['srcPort', 'dstPort'] as const) {
        if (!f.has(k)) continue;
        rule[k] = field(f.get(k), policy.lists.port, 'port', parsePort);
        if (protos && !protos.every((p) => p === 6 || p === 17 || p === 132)) {
          err('FW_PORT_NEEDS_PROTOCOL', `${k} needs protocol tcp, udp or sctp (or no protocol, meaning tcp and udp)`, f.get(k));
        }
      }
      if (f.has('srcMac')) {
        rule.srcMac = field(f.get('srcMac'), policy.lists.mac, 'mac', parseMac);
        if (rule.direction === 'out') err('FW_MAC_OUTBOUND', 'srcMac only exists on inbound frames', f.get('srcMac'));
      }
      if (f.has('interface')) {
        rule.interface = field(f.get('interface'), {}, 'interface', (t, n) => {
          if (!IFNAME_RE.test(t)) err('FW_SCHEMA', `"${t}" is not an interface name (max 15 characters, * as a suffix wildcard)`, n);
          return t;
        });
      }
      if (f.has('schedule')) {
        const s = str(f.get('schedule'), 'schedule');
        if (s !== undefined && !schedules.has(s)) err('FW_UNKNOWN_SCHEDULE', `no schedule named "${s}"`, f.get('schedule'));
        else if (s !== undefined) rule.schedule = schedules.get(s)!;
      }
      if (f.has('limit')) {
        const ln = f.get('limit');
        const lm = isMap(ln) ? entries(ln, new Set(['rate', 'burst']), 'limit') : new Map([['rate', ln]]);
        const t = isScalar(lm.get('rate')) ? String((lm.get('rate') as { value: unknown }).value) : '';
        const m = /^(\d+)\/(second|minute|hour|day)$/.exec(t);
        if (!m || Number(m[1]) < 1) err('FW_BAD_LIMIT', `limit must be N/second|minute|hour|day, got "${t}"`, ln);
        else {
          const lim: RateLimit = { rate: Number(m[1]), unit: m[2] as RateLimit['unit'] };
          if (lm.has('burst')) {
            const b = int(lm.get('burst'), 'limit.burst', 1, 1_000_000);
            if (b !== undefined) lim.burst = b;
          }
          rule.limit = lim;
        }
      }
      if (f.has('log')) rule.log = bool(f.get('log'), 'log') ?? false;

      // Cross-field checks: conditions that can never hold are almost always mistakes.
      const fams = new Set<number>();
      for (const k of ['srcIp', 'dstIp'] as const) {
        const m = rule[k];
        if (m && !m.not) for (const r of m.values) fams.add(r.family);
      }
      if (rule.frame === 'arp' && (rule.protocol || rule.srcPort || rule.dstPort || rule.tcpFlags || rule.icmp)) {
        err('FW_FRAME_CONFLICT', 'an ARP rule can only match interface, srcMac and srcIp/dstIp', node);
      }
      if (rule.frame === 'ipv4' && fams.size === 1 && fams.has(6))
        err('FW_FRAME_CONFLICT', 'frame ipv4 with only IPv6 addresses never matches', node);
      if (rule.frame === 'ipv6' && fams.size === 1 && fams.has(4))
        err('FW_FRAME_CONFLICT', 'frame ipv6 with only IPv4 addresses never matches', node);
      if ((rule.frame === 'ipv4' && only(58)) || (rule.frame === 'ipv6' && only(1))) {
        err('FW_FRAME_CONFLICT', 'icmp is IPv4 and icmpv6 is IPv6', node);
      }
      if (rule.action === 'log-only' && rule.limit) warn('FW_LIMIT_IGNORED', 'limit on a log-only rule only thins the log', f.get('limit'));
      if (diags.filter((d) => d.severity === 'error').length === before) policy.rules.push(rule);
    });
  }
  return loadResult(policy, diags);
}
