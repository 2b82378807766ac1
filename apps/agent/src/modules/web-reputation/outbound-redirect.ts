export interface OutboundRedirectPlan {
  httpPorts: readonly number[];
  httpTo: number;
  tlsTo?: number;
  exemptUids: readonly number[];
}

const TABLE = 'palisade_webrep';

/**
 * The nftables script that sends this host's own outbound web traffic into the proxy: locally
 * generated TCP to the web ports (output hook) is redirected to the proxy's listeners, except
 * for the exempt users (the agent itself, whose proxy connections must leave for real, and any
 * user the policy allows). Replaced atomically in one `nft -f` transaction.
 */
export function outboundRedirectScript(plan: OutboundRedirectPlan | undefined): string {
  const lines = [`table inet ${TABLE}`, `delete table inet ${TABLE}`];
  if (plan) {
    const exempt = plan.exemptUids.length ? `meta skuid != { ${[...new Set(plan.exemptUids)].join(', ')} } ` : '';
    lines.push(`table inet ${TABLE} {`, '  chain output {', '    type nat hook output priority -100; policy accept;');
    // Never loop: traffic to the loopback proxy itself is left alone.
    lines.push('    oifname "lo" accept');
    if (plan.httpPorts.length)
      lines.push(`    ${exempt}tcp dport { ${plan.httpPorts.join(', ')} } redirect to :${plan.httpTo} comment "palisade-webrep http"`);
    if (plan.tlsTo) lines.push(`    ${exempt}tcp dport 443 redirect to :${plan.tlsTo} comment "palisade-webrep tls"`);
    lines.push('  }', '}');
  }
  return `${lines.join('\n')}\n`;
}
