import { ACTION_RANK, type FirewallRule } from './firewall-policy.ts';

/**
 * The order in which rules decide: higher priority first; at equal priority the stronger action
 * (bypass > force-allow > deny > allow > log-only); then the order they were written in.
 * The compiler emits rules in this order and the evaluator walks it, so both agree by construction.
 */
export function ruleOrder(rules: readonly FirewallRule[]): FirewallRule[] {
  return rules
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.priority - a.r.priority || ACTION_RANK[b.r.action] - ACTION_RANK[a.r.action] || a.i - b.i)
    .map((x) => x.r);
}
