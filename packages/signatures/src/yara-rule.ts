import type { PatternToken } from './byte-pattern.ts';

/** One `$name = ...` of a YARA rule, compiled to byte patterns (or a regular expression). */
export interface YaraString {
  /** `$a`, or `$` for anonymous strings. */
  id: string;
  kind: 'text' | 'hex' | 'regex';
  /** One token list per spelling (ascii, wide); empty for regex strings. */
  variants: PatternToken[][];
  /** Parallel to `variants`: whether that spelling is the UTF-16 one. */
  wideVariants: boolean[];
  regex?: RegExp;
  fullword: boolean;
  private: boolean;
  line: number;
  /** Set when the condition only ever asks `$a at N`: matches elsewhere are not recorded (as YARA does). */
  fixedOffset?: number;
}

export type YaraQuantifier =
  | { q: 'any' | 'all' | 'none' }
  | { q: 'n'; n: YaraExpr }
  | { q: 'percent'; n: YaraExpr };

export type YaraExpr =
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: number }
  | { t: 'str'; v: string }
  | { t: 'filesize' }
  | { t: 'match'; id: string; at?: YaraExpr; range?: [YaraExpr, YaraExpr] }
  | { t: 'count'; id: string; range?: [YaraExpr, YaraExpr] }
  | { t: 'offset' | 'length'; id: string; index: YaraExpr }
  | { t: 'read'; fn: string; arg: YaraExpr }
  | { t: 'bin'; op: string; l: YaraExpr; r: YaraExpr }
  | { t: 'un'; op: 'not' | '-' | '~' | 'defined'; arg: YaraExpr }
  | { t: 'of'; quant: YaraQuantifier; ids: string[]; at?: YaraExpr; range?: [YaraExpr, YaraExpr] }
  | { t: 'ruleof'; quant: YaraQuantifier; rules: string[] }
  | { t: 'forof'; quant: YaraQuantifier; ids: string[]; body: YaraExpr }
  | { t: 'forin'; quant: YaraQuantifier; vars: string[]; iter: { range: [YaraExpr, YaraExpr] } | { list: YaraExpr[] }; body: YaraExpr }
  | { t: 'var'; name: string }
  | { t: 'rule'; name: string };

export interface YaraRule {
  name: string;
  tags: string[];
  meta: Record<string, string | number | boolean>;
  strings: YaraString[];
  condition: YaraExpr;
  private: boolean;
  global: boolean;
  file: string;
  line: number;
}
