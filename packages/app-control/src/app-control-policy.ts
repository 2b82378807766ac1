import type { PackageRule, RuleAction, Ruleset, RulesetScope } from './app-control-rule.ts';
import { compileNamePattern, compilePathPattern } from './path-pattern.ts';

export type Verdict = 'allow' | 'block' | 'unknown';

/** What the agent knows about one file when it asks for a verdict. */
export interface FileFacts {
  path: string;
  sha256: string;
  /** Set when a package database lists the file; `intact` = its content matches the recorded digest. */
  package?: { manager: 'dpkg' | 'rpm'; name: string; intact: boolean };
}

/** Why a verdict was reached: which layer decided, and which rule. */
export interface Decision {
  verdict: Verdict;
  source: 'global' | 'hash' | 'path' | 'package' | 'baseline' | 'none';
  rulesetId?: string;
  scope?: RulesetScope;
  description?: string;
}

export interface PolicyInput {
  rulesets: readonly Ruleset[];
  /** Global block list: these hashes are blocked whatever any ruleset or baseline says. */
  globalBlock?: Iterable<string>;
  /** The inventory baseline: content that was on the host when it was approved. */
  baseline?: Iterable<string>;
  /**
   * Allow by origin: a file a package database lists whose content still matches the recorded
   * digest runs, at the baseline's strength (any explicit rule outranks it). An unattended
   * security update then keeps working without a maintenance window.
   */
  trustPackages?: boolean;
}

interface Tagged {
  action: RuleAction;
  rulesetId: string;
  scope: RulesetScope;
  description?: string;
}

interface CompiledPath extends Tagged {
  match: (path: string) => boolean;
}

interface CompiledPackage extends Tagged {
  manager?: PackageRule['manager'];
  match: (name: string) => boolean;
}

/**
 * Within a layer, local beats shared (per-computer review overrides the fleet list), and within
 * one scope block beats allow (when two shared rulesets disagree, the safe answer wins).
 */
function strongest(candidates: Tagged[]): Tagged | undefined {
  let best: Tagged | undefined;
  const rank = (t: Tagged) => (t.scope === 'local' ? 2 : 0) + (t.action === 'block' ? 1 : 0);
  for (const c of candidates) if (!best || rank(c) > rank(best)) best = c;
  return best;
}

function decided(layer: Decision['source'], t: Tagged): Decision {
  return {
    verdict: t.action,
    source: layer,
    rulesetId: t.rulesetId,
    scope: t.scope,
    ...(t.description ? { description: t.description } : {}),
  };
}

/**
 * The verdict function. Layers from strongest to weakest: global block list, hash rules, path
 * rules, package-origin rules, the inventory baseline; nothing matched = unknown. A hash says
 * what the file is, so it outranks where it lies (path) or who installed it (package); the
 * baseline is implicit, so any explicit rule outranks it.
 */
export class AppControlPolicy {
  private readonly globalBlock: Set<string>;
  private readonly baseline: Set<string>;
  private readonly hashRules = new Map<string, Tagged[]>();
  private readonly pathRules: CompiledPath[] = [];
  private readonly packageRules: CompiledPackage[] = [];
  private readonly trustPackages: boolean;

  constructor(input: PolicyInput) {
    this.trustPackages = input.trustPackages ?? false;
    this.globalBlock = new Set(input.globalBlock ?? []);
    this.baseline = new Set(input.baseline ?? []);
    for (const rs of input.rulesets) {
      for (const r of rs.rules) {
        const tag: Tagged = {
          action: r.action,
          rulesetId: rs.id,
          scope: rs.scope,
          ...(r.description ? { description: r.description } : {}),
        };
        if (r.kind === 'hash') {
          const list = this.hashRules.get(r.sha256) ?? [];
          list.push(tag);
          this.hashRules.set(r.sha256, list);
        } else if (r.kind === 'path') this.pathRules.push({ ...tag, match: compilePathPattern(r.pattern) });
        else this.packageRules.push({ ...tag, ...(r.manager ? { manager: r.manager } : {}), match: compileNamePattern(r.name ?? '*') });
      }
    }
  }

  /** Adds content to the baseline (maintenance mode, an approved drift). */
  learn(sha256: string): void {
    this.baseline.add(sha256);
  }

  inBaseline(sha256: string): boolean {
    return this.baseline.has(sha256);
  }

  get baselineSize(): number {
    return this.baseline.size;
  }

  /** Whether a verdict can depend on package ownership (the caller then has to look it up). */
  get needsPackageFacts(): boolean {
    return this.trustPackages || this.packageRules.length > 0;
  }

  /**
   * Whether ownership can change this decision: package rules outrank the baseline, while trust
   * by origin only turns an unknown into an allow.
   */
  packageFactsMatter(d: Decision): boolean {
    if (d.source === 'global' || d.source === 'hash' || d.source === 'path') return false;
    return this.packageRules.length > 0 || (this.trustPackages && d.verdict === 'unknown');
  }

  /**
   * The hashes allowed whatever their path, so an enforcement point may answer them without
   * asking (no round trip on an uncached exec). Undefined when path or package rules exist:
   * then the verdict of the same content can depend on where it lies.
   */
  contentAllowed(): string[] | undefined {
    if (this.pathRules.length > 0 || this.packageRules.length > 0) return undefined;
    const out: string[] = [];
    const candidates = new Set([...this.baseline, ...this.hashRules.keys()]);
    for (const h of candidates) if (this.decide({ path: '/', sha256: h }).verdict === 'allow') out.push(h);
    return out;
  }

  decide(facts: FileFacts): Decision {
    if (this.globalBlock.has(facts.sha256)) return { verdict: 'block', source: 'global' };
    const byHash = this.hashRules.get(facts.sha256);
    const h = byHash && strongest(byHash);
    if (h) return decided('hash', h);
    const p = strongest(this.pathRules.filter((r) => r.match(facts.path)));
    if (p) return decided('path', p);
    const pkg = facts.package;
    if (pkg?.intact) {
      const k = strongest(this.packageRules.filter((r) => (!r.manager || r.manager === pkg.manager) && r.match(pkg.name)));
      if (k) return decided('package', k);
    }
    if (this.baseline.has(facts.sha256)) return { verdict: 'allow', source: 'baseline' };
    if (this.trustPackages && pkg?.intact) return { verdict: 'allow', source: 'package' };
    return { verdict: 'unknown', source: 'none' };
  }
}
