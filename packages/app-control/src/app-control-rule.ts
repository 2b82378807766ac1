/** What a rule does to the files it matches. */
export type RuleAction = 'allow' | 'block';

/** A file whose content has exactly this SHA-256 (lower-case hex). */
export interface HashRule {
  kind: 'hash';
  sha256: string;
  action: RuleAction;
  description?: string;
}

/**
 * Files at a path matching `pattern`: `*` stays within one path segment, `**` crosses segments,
 * a trailing `/` means "everything below". Path rules are weaker than hash rules because a path
 * says nothing about what is in the file.
 */
export interface PathRule {
  kind: 'path';
  pattern: string;
  action: RuleAction;
  description?: string;
}

/**
 * Files owned by an OS package (dpkg/rpm) whose content still matches the digest the package
 * database recorded for them: "whatever the distribution installed, unmodified".
 */
export interface PackageRule {
  kind: 'package';
  /** Package manager; absent = any. */
  manager?: 'dpkg' | 'rpm';
  /** Package name pattern (`*` wildcards); absent = any package. */
  name?: string;
  action: RuleAction;
  description?: string;
}

export type AppControlRule = HashRule | PathRule | PackageRule;

/**
 * Shared rulesets come from the manager and apply to many computers; local ones belong to one
 * computer (its own drift review). Local beats shared at the same rule strength, so an operator
 * can allow one computer's exception without touching the shared list.
 */
export type RulesetScope = 'shared' | 'local';

export interface Ruleset {
  id: string;
  name: string;
  scope: RulesetScope;
  rules: AppControlRule[];
}
