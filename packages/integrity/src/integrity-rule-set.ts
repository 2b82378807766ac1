import picomatch from 'picomatch';
import type { AttributeMask, HashAlgorithm } from './attribute-mask.ts';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export type RuleType = 'files' | 'users' | 'groups' | 'packages' | 'ports' | 'services' | 'kernel-modules' | 'crontabs';
export const RULE_TYPES: readonly RuleType[] = ['files', 'users', 'groups', 'packages', 'ports', 'services', 'kernel-modules', 'crontabs'];

/** `setid` = setuid or setgid: the rule only claims files carrying those bits. */
export type FileFilter = 'setuid' | 'setgid' | 'setid';

export interface IntegrityRule {
  id: string;
  description: string;
  type: RuleType;
  /** Roots for files rules; data sources (files or directories) for the other types. */
  paths: string[];
  include: string[];
  exclude: string[];
  /** 0 = the root only; Infinity = unlimited. */
  depth: number;
  followLinks: boolean;
  maskText: string;
  mask: AttributeMask;
  hash: HashAlgorithm[];
  severity: Severity;
  /** Re-hash even when the stat data is unchanged (catches content changed with mtime/ctime forged). */
  fullHash: boolean;
  realtime: boolean;
  /** Text diffs of small files (like syscheck `report_changes`): on for the rule's files, or those matching `reportChangesFor`. */
  reportChanges: boolean;
  /** Globs (relative to a root, or absolute) narrowing `reportChanges`; empty = every regular file of the rule. */
  reportChangesFor: string[];
  /** Files larger than this get no diff (default 64 KiB). */
  diffMaxBytes: number;
  /** Redact secrets in diffs and stored copies (default true). */
  redact: boolean;
  /** Extra redaction patterns (JavaScript regular expressions, case-insensitive, per line). */
  redactPatterns: string[];
  filter?: FileFilter;
}

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

interface CompiledRule {
  rule: IntegrityRule;
  index: number;
  root: string;
  include?: (p: string) => boolean;
  excludeRel?: (p: string) => boolean;
  excludeAbs?: (p: string) => boolean;
  reportRel?: (p: string) => boolean;
  reportAbs?: (p: string) => boolean;
}

function under(path: string, root: string): boolean {
  if (root === '/') return path.startsWith('/');
  return path === root || (path.startsWith(root) && path.charCodeAt(root.length) === 47);
}

function relative(path: string, root: string): string {
  if (path === root) return '';
  return root === '/' ? path.slice(1) : path.slice(root.length + 1);
}

function depthOf(rel: string): number {
  if (rel === '') return 0;
  let n = 1;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 47) n++;
  return n;
}

/**
 * A loaded, validated rule set. It decides, without touching the file system, which rule claims
 * a path and whether a directory needs walking, so the scanner and the real-time watcher agree.
 */
export class IntegrityRuleSet {
  readonly byId: ReadonlyMap<string, IntegrityRule>;
  private readonly fileRules: CompiledRule[];

  constructor(readonly rules: readonly IntegrityRule[]) {
    this.byId = new Map(rules.map((r) => [r.id, r]));
    const opts = { dot: true };
    this.fileRules = [];
    rules.forEach((rule, index) => {
      if (rule.type !== 'files') return;
      const abs = rule.exclude.filter((g) => g.startsWith('/'));
      const rel = rule.exclude.filter((g) => !g.startsWith('/'));
      const reportAbs = rule.reportChangesFor.filter((g) => g.startsWith('/'));
      const reportRel = rule.reportChangesFor.filter((g) => !g.startsWith('/'));
      for (const root of rule.paths) {
        this.fileRules.push({
          rule,
          index,
          root,
          include: rule.include.length ? picomatch(rule.include, opts) : undefined,
          excludeRel: rel.length ? picomatch(rel, opts) : undefined,
          excludeAbs: abs.length ? picomatch(abs, opts) : undefined,
          reportRel: reportRel.length ? picomatch(reportRel, opts) : undefined,
          reportAbs: reportAbs.length ? picomatch(reportAbs, opts) : undefined,
        });
      }
    });
  }

  /** Roots the scanner walks, each once. */
  fileRoots(): string[] {
    return [...new Set(this.fileRules.map((r) => r.root))];
  }

  private excluded(c: CompiledRule, path: string, rel: string): boolean {
    if (!c.excludeRel && !c.excludeAbs) return false;
    // An excluded directory excludes its subtree, so every ancestor below the root is checked.
    let r = rel;
    let p = path;
    for (;;) {
      if ((r !== '' && c.excludeRel?.(r)) || c.excludeAbs?.(p)) return true;
      const cut = r.lastIndexOf('/');
      if (cut < 0) return false;
      r = r.slice(0, cut);
      p = p.slice(0, p.lastIndexOf('/'));
    }
  }

  /**
   * The rule that claims `path`, given its mode (type bits included) when known. Filter rules
   * (SUID/SGID) win when they apply, because a new SUID binary matters more than the generic
   * rule of its directory; otherwise the rule with the most specific root, then the first declared.
   */
  ruleForPath(path: string, mode?: number, isDir = false): IntegrityRule | undefined {
    let best: CompiledRule | undefined;
    let bestFilter = false;
    for (const c of this.fileRules) {
      if (!under(path, c.root)) continue;
      const rel = relative(path, c.root);
      if (depthOf(rel) > c.rule.depth) continue;
      const f = c.rule.filter;
      if (f) {
        if (isDir || mode === undefined) continue;
        const ok = f === 'setuid' ? (mode & S_ISUID) !== 0 : f === 'setgid' ? (mode & S_ISGID) !== 0 : (mode & (S_ISUID | S_ISGID)) !== 0;
        if (!ok) continue;
      }
      if (c.include && rel !== '' && !isDir && !c.include(rel)) continue;
      if (this.excluded(c, path, rel)) continue;
      const isFilter = f !== undefined;
      if (
        !best ||
        (isFilter && !bestFilter) ||
        (isFilter === bestFilter && (c.root.length > best.root.length || (c.root.length === best.root.length && c.index < best.index)))
      ) {
        best = c;
        bestFilter = isFilter;
      }
    }
    return best?.rule;
  }

  /** Whether anything below `dir` can be claimed by a rule, so the walker may skip the subtree. */
  shouldDescend(dir: string): boolean {
    for (const c of this.fileRules) {
      if (!under(dir, c.root)) continue;
      const rel = relative(dir, c.root);
      if (depthOf(rel) >= c.rule.depth) continue;
      if (this.excluded(c, dir, rel)) continue;
      return true;
    }
    return false;
  }

  /**
   * Whether a text diff is wanted for `path`, a file claimed by `rule` (`reportChanges: true`, or
   * one of its globs matches the path: absolute, or relative to a root of the rule holding it).
   */
  reportsChanges(rule: IntegrityRule, path: string): boolean {
    if (!rule.reportChanges) return false;
    if (rule.reportChangesFor.length === 0) return true;
    for (const c of this.fileRules) {
      if (c.rule !== rule || !under(path, c.root)) continue;
      if (c.reportAbs?.(path)) return true;
      const rel = relative(path, c.root);
      if (rel !== '' && c.reportRel?.(rel)) return true;
    }
    return false;
  }

  /** Whether the walker should follow symlinks found below `path`. */
  followLinks(path: string): boolean {
    return this.fileRules.some((c) => c.rule.followLinks && under(path, c.root));
  }

  rulesOfType(type: RuleType): IntegrityRule[] {
    return this.rules.filter((r) => r.type === type);
  }
}
