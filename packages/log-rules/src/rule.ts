import type { Expression } from './expression.ts';
import type { IpEntry } from './ip-matcher.ts';
import type { StartChars } from './start-chars.ts';

export type ListLookup =
  | 'match_key'
  | 'not_match_key'
  | 'match_key_value'
  | 'address_match_key'
  | 'not_address_match_key'
  | 'address_match_key_value';

export interface ListCheck {
  field: string;
  lookup: ListLookup;
  list: string;
  checkValue?: Expression;
}

/** One `<rule>`, compiled. Field names are the event field names (`srcip`, `dstuser`, `win.x`). */
export interface Rule {
  id: number;
  level: number;
  description: string;
  groups: string[];
  /** `groups` joined with commas and a trailing comma, as analysisd stores it for group matching. */
  groupText: string;
  file: string;
  line: number;
  /** 0 when the rule has no frequency. */
  frequency: number;
  timeframe: number;
  ignoreTime: number;
  noalert: boolean;
  maxsize: number;
  category?: string;
  decodedAs?: string;
  match?: Expression;
  regex?: Expression;
  /**
   * The first characters of the log a match of this rule can start with (from an anchored,
   * non-negated `<match>`/`<regex>`), or undefined; lets a child walk skip the rule cheaply.
   */
  startChars?: StartChars;
  /** Static-field checks (program_name, hostname, url, …) as (event field, expression). */
  checks: { field: string; expr: Expression }[];
  user?: Expression;
  srcip?: IpEntry[];
  dstip?: IpEntry[];
  srcipNegate?: boolean;
  dstipNegate?: boolean;
  fields: { name: string; expr: Expression }[];
  time?: { from: number; to: number };
  weekdays?: Set<number>;
  lists: ListCheck[];
  ifSid: number[];
  ifGroup?: Expression;
  ifLevel?: number;
  ifMatchedSid?: number;
  ifMatchedGroup?: Expression;
  same: string[];
  different: string[];
  notSame: string[];
  options: string[];
  mitre: string[];
  info: string[];
  ifFts: boolean;
  compiledRule?: string;
  checkDiff: boolean;
  /**
   * Rules that correlate on events this rule matched (their if_matched_sid names it, their
   * if_matched_group matches its groups, or a plain frequency rule on itself or its parent).
   * Filled when loading finishes.
   */
  correlators: Rule[];
}

/**
 * A place of a rule in the tree. One rule may sit under several parents (if_group, if_level,
 * several if_sid), each place with its own children, exactly like analysisd's RuleNode.
 */
export interface RuleNode {
  rule: Rule;
  /** Sort key fixed when the node was placed (see insertByLevel). */
  rank: number;
  /** Children in analysisd order: level 0 first, then higher level first, then load order. */
  children: RuleNode[];
  /**
   * The children an event of a given decoder and program name can match (decoded_as and
   * program_name agree), in the same order; built on first use so evaluation skips the others.
   */
  byDecoder?: Map<string, ChildList>;
}

/**
 * A filtered child list, plus an index on the field most of its rules compare exactly
 * (`<field name="win.system.eventID">^4625$</field>`): for a given value of that field, only the
 * rules expecting that value (and those not testing it exactly) can match.
 */
export interface ChildList {
  list: RuleNode[];
  indexField?: string;
  /** Rules of `list` with an exact test on indexField, by accepted (lower-cased) value. */
  byValue?: Map<string, Set<RuleNode>>;
  indexed?: Set<RuleNode>;
  /** The narrowed list per seen value (bounded). */
  perValue?: Map<string, RuleNode[]>;
  /**
   * Without an exact index: the field most rules of `list` test (any test needs the field to
   * exist), and `list` without those rules, for events that lack the field.
   */
  presenceField?: string;
  withoutField?: RuleNode[];
  /** The rules of `list` that need presenceField. */
  needField?: Set<RuleNode>;
  /**
   * Without an exact index: a field many rules test with a pattern anchored at the start
   * (`^account.\.*`), and the narrowed lists per first character of its value (and presence).
   */
  startField?: string;
  perStart?: (RuleNode[] | undefined)[];
}
