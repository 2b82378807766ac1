import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SETS, parseAddressRange, TABLE_NAME } from '@palisade/firewall';
import { type CommandRunner, spawnRunner } from './command-runner.ts';

export interface NftablesFirewallOptions {
  run?: CommandRunner;
  /** Apply inside this network namespace (`ip netns exec NS nft …`); tests and containers use it. */
  netns?: string;
  /** Where the complete ruleset files are written before `nft -f`. */
  stateDir: string;
  now?: () => number;
  isRoot?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

export interface ApplyResult {
  ok: boolean;
  /** nft's own message when it refused the file; the previous ruleset is still in force. */
  error?: string;
}

export interface FirewallStatus {
  state: 'active' | 'inactive' | 'unsupported';
  reason?: string;
  nftVersion?: string;
  appliedAt?: number;
  blocked: number;
  lastError?: string;
}

export interface TestApplyOptions {
  /** True when the manager (or whatever must stay reachable) still answers. */
  probe: () => Promise<boolean>;
  /** How long the new ruleset gets to prove itself. */
  seconds: number;
  intervalMs?: number;
}

const OWNED_TABLES = [`inet ${TABLE_NAME}`, `arp ${TABLE_NAME}`];

/**
 * Applies compiled Palisade rulesets with nftables. Every apply is one `nft -f` of a complete
 * file, so the kernel swaps the whole ruleset in one transaction or keeps the old one; the class
 * remembers the last ruleset that loaded so it can go back to it, and it only ever names the
 * Palisade tables, so rules other software put in other tables are never touched.
 */
export class NftablesFirewall {
  private readonly run: CommandRunner;
  private readonly now: () => number;
  private readonly isRoot: () => boolean;
  private readonly sleep: (ms: number) => Promise<void>;
  private current: string | undefined;
  private previous: string | undefined;
  private appliedAt: number | undefined;
  private lastError: string | undefined;
  private serial = 0;
  /** Dynamic blocks survive re-applies: the table is recreated, so they are written back into it. */
  private readonly blocks = new Map<string, number>();

  constructor(private readonly options: NftablesFirewallOptions) {
    this.run = options.run ?? spawnRunner;
    this.now = options.now ?? Date.now;
    this.isRoot = options.isRoot ?? (() => process.getuid?.() === 0);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.loadBlocks();
  }

  private get blocksFile(): string {
    return join(this.options.stateDir, 'dynamic-blocks.json');
  }

  /**
   * Dynamic blocks are kept on disk with their expiry, so an agent restart (or a reboot) puts
   * back what a playbook or an operator blocked, for the time that is left, on the next apply.
   */
  private loadBlocks(): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(this.blocksFile, 'utf8'));
    } catch {
      return; // none yet, or unreadable: start without (the next block rewrites the file)
    }
    if (!saved || typeof saved !== 'object') return;
    const now = this.now();
    for (const [addr, until] of Object.entries(saved as Record<string, unknown>)) {
      if (typeof until === 'number' && until > now && typeof parseAddressRange(addr) !== 'string') this.blocks.set(addr, until);
    }
  }

  private async saveBlocks(): Promise<void> {
    await mkdir(this.options.stateDir, { recursive: true });
    const tmp = `${this.blocksFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.blocks)), { mode: 0o600 });
    await rename(tmp, this.blocksFile);
  }

  /** The dynamic blocks in force: address -> expiry (epoch ms). */
  dynamicBlocks(): { address: string; until: number }[] {
    const now = this.now();
    return [...this.blocks].filter(([, until]) => until > now).map(([address, until]) => ({ address, until }));
  }

  private nft(args: readonly string[]) {
    return this.options.netns ? this.run('ip', ['netns', 'exec', this.options.netns, 'nft', ...args]) : this.run('nft', args);
  }

  /** The ruleset the kernel has from us right now (without the dynamic block elements). */
  get activeRuleset(): string | undefined {
    return this.current;
  }

  private blockElements(): string[] {
    const now = this.now();
    const lines: string[] = [];
    for (const [addr, until] of this.blocks) {
      const left = Math.ceil((until - now) / 1000);
      if (left <= 0) {
        this.blocks.delete(addr);
        continue;
      }
      const r = parseAddressRange(addr);
      if (typeof r === 'string') continue;
      lines.push(`add element inet ${TABLE_NAME} ${BLOCK_SETS[r.family]} { ${addr} timeout ${left}s }`);
    }
    return lines;
  }

  private async load(ruleset: string, check = false): Promise<ApplyResult> {
    await mkdir(this.options.stateDir, { recursive: true });
    const file = join(this.options.stateDir, `ruleset-${process.pid}-${++this.serial}.nft`);
    const body = [ruleset.trimEnd(), ...this.blockElements(), ''].join('\n');
    await writeFile(file, body, { mode: 0o600 });
    const res = await this.nft(check ? ['-c', '-f', file] : ['-f', file]);
    if (res.code !== 0) return { ok: false, error: (res.stderr || res.stdout).trim() || `nft exited with ${res.code}` };
    return { ok: true };
  }

  /** Validates without applying (`nft -c`): what `palisade firewall check` runs. */
  async check(ruleset: string): Promise<ApplyResult> {
    return this.load(ruleset, true);
  }

  async apply(ruleset: string): Promise<ApplyResult> {
    const res = await this.load(ruleset);
    if (!res.ok) {
      // nft -f is one transaction: on failure the kernel still has the previous ruleset.
      this.lastError = res.error;
      return res;
    }
    this.previous = this.current;
    this.current = ruleset;
    this.appliedAt = this.now();
    this.lastError = undefined;
    return res;
  }

  /** Goes back to the ruleset before the last successful apply; with none, removes our tables. */
  async rollback(): Promise<ApplyResult> {
    if (this.previous !== undefined) {
      const res = await this.load(this.previous);
      if (res.ok) {
        this.current = this.previous;
        this.previous = undefined;
        this.appliedAt = this.now();
      } else this.lastError = res.error;
      return res;
    }
    return this.remove();
  }

  /** Removes the Palisade tables (and only those). */
  async remove(): Promise<ApplyResult> {
    const text = OWNED_TABLES.flatMap((t) => [`table ${t}`, `delete table ${t}`]).join('\n');
    await mkdir(this.options.stateDir, { recursive: true });
    const file = join(this.options.stateDir, `remove-${process.pid}-${++this.serial}.nft`);
    await writeFile(file, `${text}\n`);
    const res = await this.nft(['-f', file]);
    if (res.code !== 0) return { ok: false, error: res.stderr.trim() };
    this.previous = this.current;
    this.current = undefined;
    return { ok: true };
  }

  /**
   * Applies a ruleset and keeps it only if `probe` succeeds within the given time; otherwise the
   * previous ruleset comes back. This is the guard against a policy that cuts the agent off from
   * its manager in a way the compiler could not see (a proxy, a changed address, a routing rule).
   */
  async testApply(ruleset: string, opts: TestApplyOptions): Promise<ApplyResult & { kept: boolean }> {
    const res = await this.apply(ruleset);
    if (!res.ok) return { ...res, kept: false };
    const deadline = this.now() + opts.seconds * 1000;
    do {
      if (await opts.probe().catch(() => false)) return { ok: true, kept: true };
      await this.sleep(opts.intervalMs ?? 500);
    } while (this.now() < deadline);
    const back = await this.rollback();
    return {
      ok: back.ok,
      kept: false,
      error: back.ok ? 'probe failed: reverted to the previous ruleset' : `probe failed and rollback failed: ${back.error}`,
    };
  }

  /** Adds an address or CIDR to the dynamic block list for `seconds`. */
  async block(addr: string, seconds: number): Promise<ApplyResult> {
    const r = parseAddressRange(addr);
    if (typeof r === 'string') return { ok: false, error: r };
    if (!Number.isInteger(seconds) || seconds <= 0) return { ok: false, error: 'block duration must be a positive number of seconds' };
    const res = await this.nft(['add', 'element', 'inet', TABLE_NAME, BLOCK_SETS[r.family], `{ ${addr} timeout ${seconds}s }`]);
    if (res.code !== 0) return { ok: false, error: res.stderr.trim() };
    this.blocks.set(addr, this.now() + seconds * 1000);
    await this.saveBlocks();
    return { ok: true };
  }

  async unblock(addr: string): Promise<ApplyResult> {
    const r = parseAddressRange(addr);
    if (typeof r === 'string') return { ok: false, error: r };
    this.blocks.delete(addr);
    await this.saveBlocks();
    const res = await this.nft(['delete', 'element', 'inet', TABLE_NAME, BLOCK_SETS[r.family], `{ ${addr} }`]);
    return res.code === 0 ? { ok: true } : { ok: false, error: res.stderr.trim() };
  }

  /** Packet counters of the rules, keyed by rule comment (the policy's rule names). */
  async counters(): Promise<Record<string, { packets: number; bytes: number }>> {
    const res = await this.nft(['-j', 'list', 'table', 'inet', TABLE_NAME]);
    const out: Record<string, { packets: number; bytes: number }> = {};
    if (res.code !== 0) return out;
    const doc = JSON.parse(res.stdout) as { nftables: { rule?: { comment?: string; expr: Record<string, unknown>[] } }[] };
    for (const item of doc.nftables) {
      const rule = item.rule;
      if (!rule?.comment) continue;
      for (const e of rule.expr) {
        const c = e.counter as { packets: number; bytes: number } | undefined;
        if (!c) continue;
        const acc = (out[rule.comment] ??= { packets: 0, bytes: 0 });
        acc.packets += c.packets;
        acc.bytes += c.bytes;
      }
    }
    return out;
  }

  async status(): Promise<FirewallStatus> {
    const blocked = [...this.blocks.values()].filter((t) => t > this.now()).length;
    if (!this.isRoot()) return { state: 'unsupported', reason: 'not running as root: nftables needs CAP_NET_ADMIN', blocked };
    const v = await this.nft(['--version']);
    if (v.code !== 0) {
      return {
        state: 'unsupported',
        reason: v.code === 127 ? 'nft (nftables) is not installed' : `nft does not run: ${v.stderr.trim()}`,
        blocked,
      };
    }
    return {
      state: this.current !== undefined ? 'active' : 'inactive',
      nftVersion: v.stdout.trim(),
      ...(this.appliedAt !== undefined ? { appliedAt: this.appliedAt } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      blocked,
    };
  }
}
