import type { Diagnostic } from '@palisade/diagnostics';
import { Expression, type ExpressionType, parseExpressionType } from './expression.ts';
import { fieldName } from './decoder-set.ts';
import { type IpEntry, parseIpEntry } from './ip-matcher.ts';
import type { ListCheck, ListLookup, Rule, RuleNode } from './rule.ts';
import { intersectStartChars } from './start-chars.ts';
import type { XmlNode } from './xml-node.ts';

/** Rule elements that test one static event field, with their default pattern type. */
const STATIC_CHECKS: Record<string, { field: string; type: ExpressionType }> = {
  program_name: { field: 'program_name', type: 'osmatch' },
  hostname: { field: 'hostname', type: 'osmatch' },
  location: { field: 'location', type: 'osmatch' },
  url: { field: 'url', type: 'osmatch' },
  id: { field: 'id', type: 'osmatch' },
  status: { field: 'status', type: 'osmatch' },
  action: { field: 'action', type: 'string' },
  protocol: { field: 'protocol', type: 'osmatch' },
  system_name: { field: 'system_name', type: 'osmatch' },
  data: { field: 'data', type: 'osmatch' },
  extra_data: { field: 'extra_data', type: 'osmatch' },
  srcport: { field: 'srcport', type: 'osmatch' },
  dstport: { field: 'dstport', type: 'osmatch' },
  srcgeoip: { field: 'srcgeoip', type: 'osmatch' },
  dstgeoip: { field: 'dstgeoip', type: 'osmatch' },
};

/** `same_*` / `different_*` element suffixes and the event field each compares. */
const CORRELATION_FIELDS: Record<string, string> = {
  source_ip: 'srcip',
  srcip: 'srcip',
  dstip: 'dstip',
  src_port: 'srcport',
  srcport: 'srcport',
  dst_port: 'dstport',
  dstport: 'dstport',
  location: 'location',
  user: 'dstuser',
  srcuser: 'srcuser',
  id: 'id',
  protocol: 'protocol',
  action: 'action',
  url: 'url',
  status: 'status',
  system_name: 'system_name',
  data: 'data',
  extra_data: 'extra_data',
  srcgeoip: 'srcgeoip',
  dstgeoip: 'dstgeoip',
  agent: 'agent_id',
};

/** The C functions analysisd offers to `<compiled_rule>` that the shipped rules use. */
export const COMPILED_RULES = new Set(['is_simple_http_request', 'is_valid_crawler', 'comp_srcuser_dstuser', 'check_id_size']);

const LOOKUPS = new Set<ListLookup>([
  'match_key',
  'not_match_key',
  'match_key_value',
  'address_match_key',
  'not_address_match_key',
  'address_match_key_value',
]);

const WEEKDAYS: Record<string, number[]> = {
  sunday: [0],
  sun: [0],
  monday: [1],
  mon: [1],
  tuesday: [2],
  tue: [2],
  wednesday: [3],
  wed: [3],
  thursday: [4],
  thu: [4],
  friday: [5],
  fri: [5],
  saturday: [6],
  sat: [6],
  weekdays: [1, 2, 3, 4, 5],
  weekends: [0, 6],
};

/** Parses `6 pm`, `18:30`, `8:30 am` into minutes since midnight. */
function parseClock(s: string): number | null {
  const m = /^\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*$/i.exec(s);
  if (!m) return null;
  let h = Number(m[1]);
  const min = m[2] ? Number(m[2]) : 0;
  const ap = m[3]?.toLowerCase();
  if (ap === 'pm' && h < 12) h += 12;
  if (ap === 'am' && h === 12) h = 0;
  if (h > 23 || min > 59) return null;
  return h * 60 + min;
}

export function parseWeekdays(text: string): Set<number> | null {
  const out = new Set<number>();
  const t = text.toLowerCase().trim();
  const range = /^(\w+)\s*-\s*(\w+)$/.exec(t);
  if (range) {
    const a = WEEKDAYS[range[1]!];
    const b = WEEKDAYS[range[2]!];
    if (!a || !b || a.length !== 1 || b.length !== 1) return null;
    for (let d = a[0]!; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === b[0]) break;
    }
    return out;
  }
  for (const part of t.split(/[\s,]+/)) {
    if (!part) continue;
    const days = WEEKDAYS[part];
    if (!days) return null;
    for (const d of days) out.add(d);
  }
  return out.size ? out : null;
}

/** Replaces `$NAME` by the value of a `<var>` defined earlier in the same file. */
function substitute(text: string, vars: Map<string, string>): string {
  if (!vars.size || !text.includes('$')) return text;
  return text.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, name: string) => vars.get(name) ?? all);
}

/** The rule tree in analysisd's order, plus the CDB lists rules may consult. */
export class RuleSet {
  /**
   * Top of the tree: the category templates (ids below 10, like analysisd's rules 1..7). Every
   * other rule hangs below one of them or below another rule.
   */
  readonly roots: RuleNode[] = [];
  readonly byId = new Map<number, Rule>();
  /** Every node of each rule, so if_sid can attach below all of them without walking the tree. */
  private readonly places = new Map<Rule, RuleNode[]>();
  /** Every node of the tree, in the order they were created. */
  private readonly allNodes: RuleNode[] = [];

  constructor(readonly listNames: ReadonlySet<string>) {}

  addFile(nodes: XmlNode[], file: string, diagnostics: Diagnostic[]): void {
    const vars = new Map<string, string>();
    for (const node of nodes) {
      if (node.name === 'var') {
        const name = node.attributes.name;
        if (name) vars.set(name, substitute(node.text.trim(), vars));
        continue;
      }
      if (node.name === 'group') {
        const groups = (node.attributes.name ?? '')
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean);
        for (const child of node.children) {
          if (child.name === 'rule') this.addRule(child, groups, file, vars, diagnostics);
          else if (child.name === 'var') {
            const name = child.attributes.name;
            if (name) vars.set(name, substitute(child.text.trim(), vars));
          } else
            diagnostics.push({
              code: 'LOGRULES_RULE_UNKNOWN_ELEMENT',
              message: `unexpected <${child.name}> inside <group>`,
              severity: 'error',
              file,
              line: child.line,
              column: child.column,
            });
        }
        continue;
      }
      if (node.name === 'rule') {
        this.addRule(node, [], file, vars, diagnostics);
        continue;
      }
      diagnostics.push({
        code: 'LOGRULES_RULE_UNKNOWN_ELEMENT',
        message: `unexpected <${node.name}> at top level of a rule file`,
        severity: 'error',
        file,
        line: node.line,
        column: node.column,
      });
    }
  }

  private addRule(node: XmlNode, groupNames: string[], file: string, vars: Map<string, string>, diagnostics: Diagnostic[]): void {
    const err = (code: string, message: string, at: XmlNode = node): void => {
      diagnostics.push({ code, message, severity: 'error', file, line: at.line, column: at.column });
    };
    const before = diagnostics.length;
    const a: Record<string, string> = {};
    for (const [k, v] of Object.entries(node.attributes)) a[k] = substitute(v, vars);
    const id = Number(a.id);
    if (!a.id || !Number.isInteger(id) || id < 0) {
      err('LOGRULES_RULE_BAD_ID', `rule id "${a.id ?? ''}" is not a number`);
      return;
    }
    const level = Number(a.level ?? '0');
    if (!Number.isInteger(level) || level < 0 || level > 16) {
      err('LOGRULES_RULE_BAD_LEVEL', `rule ${id}: level "${a.level}" must be 0..16`);
      return;
    }
    const num = (name: string): number => {
      const v = a[name];
      if (v === undefined) return 0;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: ${name}="${v}" is not a non-negative integer`);
        return 0;
      }
      return n;
    };
    const rule: Rule = {
      id,
      level,
      description: '',
      groups: [...groupNames],
      groupText: '',
      file,
      line: node.line,
      frequency: num('frequency'),
      timeframe: num('timeframe'),
      ignoreTime: num('ignore'),
      noalert: a.noalert !== undefined && a.noalert !== '0' && a.noalert !== 'no',
      maxsize: num('maxsize'),
      checks: [],
      fields: [],
      lists: [],
      ifSid: [],
      same: [],
      different: [],
      notSame: [],
      options: [],
      mitre: [],
      info: [],
      ifFts: false,
      checkDiff: false,
      correlators: [],
      // Every optional member exists from the start so all rules share one object shape (fast
      // property access in the evaluation loop).
      category: undefined,
      decodedAs: undefined,
      match: undefined,
      regex: undefined,
      startChars: undefined,
      user: undefined,
      srcip: undefined,
      dstip: undefined,
      srcipNegate: undefined,
      dstipNegate: undefined,
      time: undefined,
      weekdays: undefined,
      ifGroup: undefined,
      ifLevel: undefined,
      ifMatchedSid: undefined,
      ifMatchedGroup: undefined,
      compiledRule: undefined,
    };
    const compile = (c: XmlNode, fallback: ExpressionType, text: string, typeAttr = c.attributes.type): Expression | undefined => {
      const t = parseExpressionType(typeAttr, fallback);
      if (!t) {
        err('LOGRULES_BAD_PATTERN', `rule ${id}: unknown pattern type "${c.attributes.type}"`, c);
        return undefined;
      }
      const negate = c.attributes.negate === 'yes' || c.attributes.negate === 'true';
      const e = Expression.compile(t, text, negate);
      if (typeof e === 'string') {
        err('LOGRULES_BAD_PATTERN', `rule ${id}: <${c.name}> ${e}`, c);
        return undefined;
      }
      return e;
    };
    let matchText: { text: string; node: XmlNode; type: string | undefined } | undefined;
    let regexText: { text: string; node: XmlNode; type: string | undefined } | undefined;
    const staticTexts = new Map<string, { text: string; node: XmlNode; type: string | undefined }>();
    let badIfSid: string | undefined;
    let skip: { code: string; message: string; at: XmlNode } | undefined;
    const srcip: IpEntry[] = [];
    const dstip: IpEntry[] = [];
    for (const c of node.children) {
      const v = substitute(c.text.trim(), vars);
      const raw = substitute(c.text, vars);
      const name = c.name;
      if (name.startsWith('same_') || name.startsWith('different_') || name === 'not_same_field') {
        const neg = name.startsWith('different_');
        const suffix = name.slice(neg ? 10 : 5);
        let f: string | undefined;
        if (name === 'same_field' || name === 'different_field' || name === 'not_same_field') f = v;
        else f = CORRELATION_FIELDS[suffix];
        if (!f) err('LOGRULES_RULE_UNKNOWN_ELEMENT', `rule ${id}: unknown option <${name}>`, c);
        else if (name === 'not_same_field') rule.notSame.push(f);
        else (neg ? rule.different : rule.same).push(f);
        continue;
      }
      if (STATIC_CHECKS[name]) {
        // Repeated elements concatenate, like <match>.
        const prev = staticTexts.get(name);
        staticTexts.set(name, { text: (prev?.text ?? '') + v, node: c, type: c.attributes.type ?? prev?.type });
        continue;
      }
      switch (name) {
        case 'description':
          rule.description = (rule.description ? `${rule.description} ` : '') + v;
          break;
        case 'group':
          rule.groups.push(
            ...v
              .split(',')
              .map((g) => g.trim())
              .filter(Boolean),
          );
          break;
        // Repeated <match>/<regex> concatenate (os_xml content, spaces kept); the last type given wins.
        case 'match':
          matchText = { text: (matchText?.text ?? '') + raw, node: c, type: c.attributes.type ?? matchText?.type };
          break;
        case 'regex':
          regexText = { text: (regexText?.text ?? '') + raw, node: c, type: c.attributes.type ?? regexText?.type };
          break;
        case 'decoded_as':
          rule.decodedAs = v;
          break;
        case 'category':
          rule.category = v;
          break;
        case 'user': {
          const e = compile(c, 'osmatch', v);
          if (e) rule.user = e;
          break;
        }
        case 'srcip':
        case 'dstip': {
          const e = parseIpEntry(v);
          if (typeof e === 'string') err('LOGRULES_RULE_BAD_IP', `rule ${id}: ${e}`, c);
          else (name === 'srcip' ? srcip : dstip).push(e);
          if (c.attributes.negate === 'yes' || c.attributes.negate === 'true') {
            if (name === 'srcip') rule.srcipNegate = true;
            else rule.dstipNegate = true;
          }
          break;
        }
        case 'field': {
          const fname = c.attributes.name;
          if (!fname) {
            err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: <field> needs a name`, c);
            break;
          }
          const e = compile(c, 'osregex', raw.trim() === '' ? '' : v);
          if (e) rule.fields.push({ name: fieldName(fname), expr: e });
          break;
        }
        case 'if_sid':
          for (const s of v.split(/[\s,]+/).filter(Boolean)) {
            const n = Number(s);
            if (!Number.isInteger(n)) badIfSid = s;
            else if (n !== id) rule.ifSid.push(n);
          }
          break;
        case 'if_group': {
          const e = compile(c, 'osmatch', v);
          if (e) rule.ifGroup = e;
          break;
        }
        case 'if_level': {
          const n = Number(v);
          if (!Number.isInteger(n)) err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: if_level must be a number`, c);
          else rule.ifLevel = n;
          break;
        }
        case 'if_matched_sid': {
          const n = Number(v);
          if (!Number.isInteger(n)) err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: if_matched_sid must be a rule id`, c);
          else rule.ifMatchedSid = n;
          break;
        }
        case 'if_matched_group': {
          const e = compile(c, 'osmatch', v);
          if (e) rule.ifMatchedGroup = e;
          break;
        }
        case 'time': {
          const m = /^(.+?)\s*-\s*(.+)$/.exec(v);
          const from = m ? parseClock(m[1]!) : null;
          const to = m ? parseClock(m[2]!) : null;
          if (from === null || to === null) err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: bad time range "${v}"`, c);
          else rule.time = { from, to };
          break;
        }
        case 'weekday': {
          const w = parseWeekdays(v);
          if (!w) err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: bad weekday "${v}"`, c);
          else rule.weekdays = w;
          break;
        }
        case 'list': {
          const lookup = (c.attributes.lookup ?? 'match_key') as ListLookup;
          if (!LOOKUPS.has(lookup)) {
            err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: unknown list lookup "${lookup}"`, c);
            break;
          }
          const field = c.attributes.field;
          if (!field) {
            err('LOGRULES_RULE_BAD_VALUE', `rule ${id}: <list> needs a field`, c);
            break;
          }
          const list = v.replace(/^etc\/lists\//, '').replace(/\.cdb$/, '');
          if (!this.listNames.has(list)) {
            // analysisd refuses such a rule (and, in turn, the rules built on it) but loads the rest.
            skip = { code: 'LOGRULES_LIST_NOT_FOUND', message: `rule ${id}: list "${v}" is not loaded; the rule is ignored`, at: c };
          }
          const check: ListCheck = { field: fieldName(field), lookup, list };
          if (c.attributes.check_value !== undefined) {
            const e = Expression.compile('osregex', c.attributes.check_value);
            if (typeof e === 'string') err('LOGRULES_BAD_PATTERN', `rule ${id}: check_value ${e}`, c);
            else check.checkValue = e;
          }
          rule.lists.push(check);
          break;
        }
        case 'options':
          rule.options.push(v);
          break;
        case 'mitre':
          for (const m of c.children) if (m.name === 'id') rule.mitre.push(m.text.trim());
          break;
        case 'info':
          rule.info.push(v);
          break;
        case 'if_fts':
          rule.ifFts = true;
          break;
        case 'check_diff':
          rule.checkDiff = true;
          break;
        case 'compiled_rule':
          if (!COMPILED_RULES.has(v)) err('LOGRULES_RULE_UNKNOWN_COMPILED', `rule ${id}: unknown compiled_rule "${v}"`, c);
          else rule.compiledRule = v;
          break;
        case 'ignore':
        case 'check_if_ignored':
        case 'var':
          break;
        default:
          err('LOGRULES_RULE_UNKNOWN_ELEMENT', `rule ${id}: unknown option <${name}>`, c);
      }
    }
    for (const [name, t] of staticTexts) {
      const st = STATIC_CHECKS[name]!;
      const e = compile(t.node, st.type, t.text, t.type);
      if (e) rule.checks.push({ field: st.field, expr: e });
    }
    if (matchText) {
      const e = compile(matchText.node, 'osmatch', matchText.text, matchText.type);
      if (e) rule.match = e;
    }
    if (regexText) {
      const e = compile(regexText.node, 'osregex', regexText.text, regexText.type);
      if (e) rule.regex = e;
    }
    rule.startChars = intersectStartChars(
      rule.match && !rule.match.negate ? rule.match.startChars : undefined,
      rule.regex && !rule.regex.negate ? rule.regex.startChars : undefined,
    );
    rule.groupText = `${rule.groups.join(',')},`;
    if (srcip.length) rule.srcip = srcip;
    if (dstip.length) rule.dstip = dstip;
    if (rule.frequency && !rule.timeframe) rule.timeframe = 360;
    if (badIfSid !== undefined) {
      // analysisd skips such a rule with a warning and loads the rest.
      diagnostics.push({
        code: 'LOGRULES_RULE_BAD_IF_SID',
        message: `rule ${id}: if_sid "${badIfSid}" is not a rule id; the rule is ignored`,
        severity: 'warning',
        file,
        line: node.line,
        column: node.column,
      });
      return;
    }
    if (diagnostics.slice(before).some((d) => d.severity === 'error')) return;
    if (skip) {
      diagnostics.push({ code: skip.code, message: skip.message, severity: 'warning', file, line: skip.at.line, column: skip.at.column });
      return;
    }
    // A correlation rule hangs below the rule (or group) it correlates on, like in analysisd.
    if (rule.ifMatchedSid !== undefined && !rule.ifSid.length && !rule.ifGroup && rule.ifLevel === undefined)
      rule.ifSid.push(rule.ifMatchedSid);
    else if (rule.ifMatchedGroup && !rule.ifSid.length && !rule.ifGroup && rule.ifLevel === undefined) rule.ifGroup = rule.ifMatchedGroup;

    const overwrite = a.overwrite === 'yes' || a.overwrite === 'true';
    const existing = this.byId.get(id);
    if (existing) {
      if (!overwrite) {
        // analysisd warns and keeps the first definition.
        diagnostics.push({
          code: 'LOGRULES_RULE_DUPLICATE',
          message: `rule id ${id} is already defined in ${existing.file}:${existing.line}; this one is ignored`,
          severity: 'warning',
          file,
          line: node.line,
          column: node.column,
        });
        return;
      }
      // Overwriting changes the rule's content in place: its places in the tree and its
      // children stay, like analysisd's OS_AddRuleInfo.
      // The tree links (if_sid, if_group, if_level) and the correlation source stay.
      const { ifSid, ifGroup, ifLevel, ifMatchedSid, ifMatchedGroup } = existing;
      Object.assign(existing, rule, { ifSid, ifGroup, ifLevel, ifMatchedSid, ifMatchedGroup, correlators: [] });
      return;
    }
    if (overwrite) {
      err('LOGRULES_RULE_OVERWRITE_MISSING', `rule ${id} overwrites a rule that is not defined`);
      return;
    }
    // analysisd warns and drops a rule whose parent is missing; the rest still loads.
    const noParent = (what: string): void => {
      diagnostics.push({
        code: 'LOGRULES_RULE_NO_PARENT',
        message: `rule ${id}: ${what}; the rule is ignored`,
        severity: 'warning',
        file,
        line: node.line,
        column: node.column,
      });
    };
    if (id < 10 && !rule.ifSid.length && !rule.ifGroup && rule.ifLevel === undefined) {
      this.attach(this.roots, rule);
    } else if (rule.ifSid.length) {
      for (const sid of rule.ifSid) {
        // Every place the parent rule holds in the tree gets the child.
        const parent = this.byId.get(sid);
        if (!parent) return noParent(`if_sid ${sid} is not defined before this rule`);
        rule.category = parent.category;
        for (const place of [...(this.places.get(parent) ?? [])]) this.attach(place.children, rule);
      }
    } else if (rule.ifLevel !== undefined) {
      const lvl = rule.ifLevel;
      if (!this.attachWhere((r) => r.level >= lvl && r.id !== id, rule))
        return noParent(`no loaded rule has level ${lvl} or more (if_level)`);
    } else if (rule.ifGroup) {
      const g = rule.ifGroup;
      if (!this.attachWhere((r) => r.id !== id && g.test(r.groupText), rule))
        return noParent(`no loaded rule is in group "${g.pattern}" (if_group)`);
    } else {
      const cat = rule.category ?? 'syslog';
      const template = this.roots.find((n) => (n.rule.category ?? 'syslog') === cat);
      if (!template) return noParent(`no category template rule for category "${cat}"`);
      rule.category = template.rule.category;
      this.attach(template.children, rule);
    }
    this.byId.set(id, rule);
  }

  /**
   * Adds the rule below every place in the tree whose rule passes `pred`: every node that exists
   * now (the order of the places does not matter, each parent sorts its children by level).
   */
  private attachWhere(pred: (r: Rule) => boolean, rule: Rule): boolean {
    let any = false;
    const verdict = new Map<Rule, boolean>();
    // Nodes attached meanwhile are the rule's own: the count is taken first.
    const count = this.allNodes.length;
    for (let i = 0; i < count; i++) {
      const n = this.allNodes[i]!;
      let ok = verdict.get(n.rule);
      if (ok === undefined) verdict.set(n.rule, (ok = pred(n.rule)));
      if (ok) {
        this.attach(n.children, rule);
        any = true;
      }
    }
    return any;
  }

  private attach(list: RuleNode[], rule: Rule): void {
    const n = newNode(rule);
    this.allNodes.push(n);
    insertByLevel(list, n);
    const at = this.places.get(rule);
    if (at) at.push(n);
    else this.places.set(rule, [n]);
  }

  /** Links every correlation rule to the rules whose events it counts (analysisd's OS_MarkID/OS_MarkGroup). */
  finalize(): void {
    const rules = [...this.byId.values()];
    for (const r of rules) r.correlators = [];
    for (const c of rules) {
      if (c.ifMatchedSid !== undefined) this.byId.get(c.ifMatchedSid)?.correlators.push(c);
      else if (c.ifMatchedGroup) {
        for (const r of rules) if (r !== c && c.ifMatchedGroup.test(r.groupText)) r.correlators.push(c);
      } else if (c.frequency) {
        for (const id of new Set([c.id, ...c.ifSid])) this.byId.get(id)?.correlators.push(c);
      }
    }
  }
}

/**
 * analysisd loads levels scaled by 100 with level 0 stored as 9900 (restored after loading), so
 * siblings are ordered: level-0 "grouping" rules first, then by decreasing level; a new rule goes
 * after the siblings of equal rank.
 */
function newNode(rule: Rule): RuleNode {
  return { rule, rank: rule.level === 0 ? 9900 : rule.level * 100, children: [], byDecoder: undefined };
}

function insertByLevel(list: RuleNode[], n: RuleNode): void {
  let i = 0;
  while (i < list.length && list[i]!.rank >= n.rank) i++;
  list.splice(i, 0, n);
}
