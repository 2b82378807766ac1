export { type AddressRange, formatRange, mergeRanges, parseAddressRange, rangesContain } from './address-range.ts';
export { BLOCK_SETS, type CompiledRuleset, type CompileOptions, compileRuleset, effectiveFailsafe, TABLE_NAME } from './compile-ruleset.ts';
export {
  type Connection,
  type ConnectionOutcome,
  type EvaluationContext,
  evaluateManagerReach,
  evaluatePacket,
  type Packet,
  ruleMatches,
  simulateConnection,
  type Verdict,
  type VerdictReason,
} from './evaluate-packet.ts';
export {
  ACTION_RANK,
  type CtState,
  type Direction,
  emptyPolicy,
  type Failsafe,
  type FirewallAction,
  type FirewallPolicy,
  type FirewallRule,
  type FrameType,
  type Match,
  type PortRange,
  PROTOCOLS,
  type RateLimit,
  type Schedule,
  type StatefulOptions,
  type TcpFlag,
} from './firewall-policy.ts';
export { type AggregatedFirewallEvent, EventAggregator } from './event-aggregator.ts';
export { loadPolicy } from './load-policy.ts';
export { type FirewallLogEntry, parseFirewallLogLine } from './parse-log-line.ts';
export { ruleOrder } from './rule-order.ts';
