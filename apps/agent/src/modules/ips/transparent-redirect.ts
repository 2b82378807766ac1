import { type NftScriptRunner, runNftScript } from '../../run-nft-script.ts';

export interface RedirectRule {
  service: string;
  /** The protected service's port: inbound TCP to it is redirected. */
  port: number;
  /** The proxy's local listen port. */
  toPort: number;
}

const TABLE = 'palisade_ips';

/**
 * The nftables script of transparent mode. Inbound connections to a protected port are
 * redirected (a DNAT to the local host, prerouting hook) to the proxy's port: the client keeps
 * its source address and still talks to the service's address and port, so nothing changes for
 * it; the proxy sees the real client as its peer. Only `prerouting` is hooked: the proxy's own
 * connections to the service are locally generated (output hook), so they are not redirected
 * back into the proxy, and the original destination is by construction the configured upstream.
 * The whole table is replaced atomically in one `nft -f` transaction.
 */
export function redirectScript(rules: readonly RedirectRule[]): string {
  const lines = [`table inet ${TABLE}`, `delete table inet ${TABLE}`];
  if (rules.length) {
    lines.push(`table inet ${TABLE} {`, '  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;');
    for (const r of rules)
      lines.push(`    tcp dport ${r.port} redirect to :${r.toPort} comment "palisade-ips ${r.service.replace(/"/g, '')}"`);
    lines.push('  }', '}');
  }
  return `${lines.join('\n')}\n`;
}

export class TransparentRedirect {
  private active = false;

  constructor(private readonly run: NftScriptRunner = runNftScript) {}

  async apply(rules: readonly RedirectRule[]): Promise<void> {
    await this.run(redirectScript(rules));
    this.active = rules.length > 0;
  }

  async remove(): Promise<void> {
    if (!this.active) return;
    await this.run(redirectScript([]));
    this.active = false;
  }
}
