import type { Position } from './parse-directives.ts';
import type { Operator } from './operators.ts';
import type { CompiledRegex } from './regex.ts';
import type { Transformation } from './transformations.ts';

/** One target of a rule: `ARGS`, `ARGS:foo`, `REQUEST_COOKIES:/re/`, `&TX:x`, `XML:/*`. */
export interface VariableSpec {
  /** Upper-case collection or variable name. */
  name: string;
  /** Lower-cased literal key, when selecting one member. */
  key?: string;
  keyRegex?: CompiledRegex;
  /** `&` prefix: the number of members instead of their values. */
  count: boolean;
}

/** `!ARGS:foo` style exclusion; no key excludes the whole collection. */
export interface TargetExclusion {
  name: string;
  key?: string;
  keyRegex?: CompiledRegex;
}

export interface SetVarAction {
  collection: string;
  /** Key, may hold macros. */
  key: string;
  op: '=' | '+' | '-' | 'delete';
  value: string;
}

export type CtlAction =
  | { kind: 'ruleEngine'; value: 'On' | 'Off' | 'DetectionOnly' }
  | { kind: 'requestBodyProcessor'; value: string }
  | { kind: 'forceRequestBodyVariable'; value: boolean }
  | { kind: 'requestBodyAccess'; value: boolean }
  | { kind: 'responseBodyAccess'; value: boolean }
  | { kind: 'ruleRemoveById'; ranges: [number, number][] }
  | { kind: 'ruleRemoveByTag'; tag: string }
  | { kind: 'ruleRemoveTargetById'; ranges: [number, number][]; target: TargetExclusion }
  | { kind: 'ruleRemoveTargetByTag'; tag: string; target: TargetExclusion }
  | { kind: 'ignored'; name: string };

export type Disruptive = 'pass' | 'block' | 'deny' | 'drop' | 'allow' | 'redirect';

export interface Rule {
  id: number;
  phase: number;
  variables: VariableSpec[];
  exclusions: TargetExclusion[];
  operator: Operator;
  operatorName: string;
  operatorParam: string;
  negated: boolean;
  transforms: { name: string; fn: Transformation }[];
  /** Cache keys for each prefix of `transforms`, so values shared across rules are transformed once. */
  transformKeys: string[];
  /**
   * The same prefixes as small integers, interned per rule set, so a transaction caches each
   * value's transformations in an array indexed by them instead of maps keyed by strings.
   */
  transformIds: number[];
  msg?: string;
  logdata?: string;
  tags: string[];
  severity?: string;
  ver?: string;
  setvars: SetVarAction[];
  ctls: CtlAction[];
  capture: boolean;
  multiMatch: boolean;
  log: boolean;
  auditlog: boolean;
  disruptive: Disruptive;
  /** What `block` means for this rule: the disruptive action of its phase's SecDefaultAction. */
  blockAction: Disruptive;
  /** `allow` scope: whole transaction, the current phase, or the request phases. */
  allowScope?: 'all' | 'phase' | 'request';
  status?: number;
  redirectUrl?: string;
  skipAfter?: string;
  skip?: number;
  chained?: Rule;
  /** True for SecAction: no targets, always matches once. */
  unconditional: boolean;
  /** Where the rule was written, for messages. */
  pos: Position;
  /** Which source it came from (a loader-defined label). */
  source: string;
  /** The engine's per-target filter ids (transaction.ts), filled on first evaluation. */
  targetFilters?: { nVars: number; nEx: number; ids: Int32Array };
}

export interface Marker {
  marker: string;
  pos: Position;
}

export type RuleEntry = Rule | Marker;

export function isMarker(e: RuleEntry): e is Marker {
  return (e as Marker).marker !== undefined;
}
