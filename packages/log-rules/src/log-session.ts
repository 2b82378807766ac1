import { ipFoundList } from './ip-matcher.ts';
import { getField, type LogEvent } from './log-event.ts';
import type { LogRuleset } from './log-ruleset.ts';
import type { ChildList, Rule, RuleNode } from './rule.ts';
import { resetLowerCache } from './literal-prefilter.ts';
import { startIndex } from './start-chars.ts';
import { preDecodeSyslog } from './syslog-predecoder.ts';

export interface ProcessOptions {
  /** Where the line came from (file path, `journald`, `stdin`); rules may test it. */
  location?: string;
  /** `syslog` runs the syslog pre-decoder; `json` and others hand the line to decoders as is. */
  logFormat?: string;
  /** Event time, seconds since the epoch; correlation windows are measured with it. */
  time?: number;
}

export interface DecodedEvent {
  fullLog: string;
  log: string;
  location: string;
  timestamp?: string;
  hostname?: string;
  programName?: string;
  /** Name analysisd reports (a child's parent name unless use_own_name), or undefined. */
  decoder?: string;
  parentDecoder?: string;
  fields: Record<string, string>;
  /** For a `<check_diff>` rule that fired: the output the rule saw the time before. */
  previousOutput?: string;
}

export interface MatchedRule {
  id: number;
  level: number;
  description: string;
  groups: string[];
  mitre: string[];
  /** Correlated rules: how many earlier events took part. */
  firedtimes?: number;
  noalert: boolean;
}

export interface ProcessResult {
  event: DecodedEvent;
  /** The rule that matched last in the tree, or undefined when none did. */
  rule?: MatchedRule;
  /** Whether analysisd would emit an alert (level > 0, not noalert, not suppressed). */
  alert: boolean;
}

interface PastEvent {
  rule: Rule;
  time: number;
  /** Only the values that different_* and not_same_field compare; the event itself is not kept. */
  vals: Map<string, string | undefined> | undefined;
  /** Highest level of a correlation rule that already consumed this event. */
  matched: number;
}

/** Most events one correlation bucket keeps; older ones drop out first. */
const MAX_BUCKET = 4096;
/** Longest event analysed; longer lines are cut. */
const MAX_EVENT_LENGTH = 65536;
/** Events between two sweeps that drop expired correlation buckets. */
const SWEEP_EVERY = 10000;

/**
 * One stream of events through a ruleset, with the correlation state (if_matched_*, frequency,
 * ignore windows) analysisd keeps. Like a wazuh-logtest session: feed lines in order.
 */
export class LogSession {
  /**
   * Correlation state: per correlation rule, the events it may count, bucketed by the values of
   * its same_* fields so a check only looks at compatible events.
   */
  private readonly buckets = new Map<Rule, Map<string, PastEvent[]>>();
  private sinceSweep = 0;
  private readonly ignoredUntil = new Map<number, number>();
  private clock = 0;
  private readonly ftsSeen = new Set<string>();
  /** Per `<check_diff>` rule, the last output it saw (analysisd keeps it per agent and rule). */
  private readonly lastOutput = new Map<number, string>();

  constructor(readonly ruleset: LogRuleset) {}

  process(input: string, options: ProcessOptions = {}): ProcessResult {
    // analysisd cuts events at OS_MAXSTR (64 KiB); so do we, which also bounds regex work.
    const line = input.length > MAX_EVENT_LENGTH ? input.slice(0, MAX_EVENT_LENGTH) : input;
    const time = options.time ?? this.clock;
    this.clock = time;
    const location = options.location ?? 'stdin';
    resetLowerCache();
    const ev: LogEvent = {
      fullLog: line,
      log: line,
      location,
      fields: new Map(),
      time,
      hostname: undefined,
      programName: undefined,
      timestamp: undefined,
      decoder: undefined,
      lowerFields: undefined,
      previousOutput: undefined,
    };
    if ((options.logFormat ?? 'syslog') === 'syslog') {
      const h = preDecodeSyslog(line);
      const end = (h as { logEnd?: number }).logEnd;
      ev.log = end !== undefined ? line.slice(h.logStart, end) : line.slice(h.logStart);
      if (h.timestamp !== undefined) ev.timestamp = h.timestamp;
      if (h.hostname !== undefined) ev.hostname = h.hostname;
      if (h.programName !== undefined) ev.programName = h.programName;
    }
    this.ruleset.decoders.decode(ev);
    const rule = this.evaluate(ev);
    const event: DecodedEvent = new LazyDecodedEvent(ev.fullLog, ev.log, location, ev.fields);
    if (ev.timestamp !== undefined) event.timestamp = ev.timestamp;
    if (ev.hostname !== undefined) event.hostname = ev.hostname;
    if (ev.programName !== undefined) event.programName = ev.programName;
    if (ev.previousOutput !== undefined) event.previousOutput = ev.previousOutput;
    if (ev.decoder) {
      event.decoder = ev.decoder.name;
      if (ev.decoder.parent !== undefined) event.parentDecoder = ev.decoder.parent;
    }
    if (!rule) return { event, alert: false };
    let alert = rule.rule.level > 0 && !rule.rule.noalert;
    if (alert && rule.rule.ignoreTime) {
      const until = this.ignoredUntil.get(rule.rule.id);
      if (until !== undefined && time < until) alert = false;
      else this.ignoredUntil.set(rule.rule.id, time + rule.rule.ignoreTime);
    }
    const matched: MatchedRule = {
      id: rule.rule.id,
      level: rule.rule.level,
      description: expandFields(rule.rule.description, ev, (n) => this.field(ev, n)),
      groups: rule.rule.groups,
      mitre: rule.rule.mitre,
      noalert: rule.rule.noalert,
    };
    if (rule.firedtimes !== undefined) matched.firedtimes = rule.firedtimes;
    return { event, rule: matched, alert };
  }

  private evaluate(ev: LogEvent): { rule: Rule; firedtimes?: number } | undefined {
    const type = ev.decoder?.type ?? 'syslog';
    const ctx: EvalContext = { ev, first: startIndex(ev.log), ftsDone: false, consumed: null, consumedRule: undefined };
    for (const root of this.ruleset.rules.roots) {
      if ((root.rule.category ?? 'syslog') !== type) continue;
      const r = this.check(ctx, root);
      if (!r) continue;
      if (r.level > 0) this.remember(ev, r, ctx);
      if (ctx.previousOutput !== undefined) ev.previousOutput = ctx.previousOutput;
      return ctx.consumedRule === r ? { rule: r, firedtimes: ctx.consumed?.length ?? 0 } : { rule: r };
    }
    return undefined;
  }

  private remember(ev: LogEvent, rule: Rule, ctx: EvalContext): void {
    let vals: Map<string, string | undefined> | undefined;
    for (const c of rule.correlators)
      for (const f of [...c.different, ...c.notSame]) {
        vals ??= new Map();
        vals.set(f, this.field(ev, f));
      }
    const past: PastEvent = { rule, time: ev.time, vals, matched: 0 };
    if (ctx.consumed && ctx.consumedRule === rule) {
      for (const p of ctx.consumed) p.matched = Math.max(p.matched, rule.level);
      past.matched = rule.level;
    }
    for (const c of rule.correlators) {
      const key = this.sameKey(ev, c);
      if (key === undefined) continue;
      let byKey = this.buckets.get(c);
      if (!byKey) this.buckets.set(c, (byKey = new Map()));
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push(past);
      if (list.length > MAX_BUCKET) list.splice(0, list.length - MAX_BUCKET);
    }
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(ev.time);
  }

  /** Drops events no correlation window can reach any more, and empty buckets. */
  private sweep(now: number): void {
    this.sinceSweep = 0;
    for (const [c, byKey] of this.buckets) {
      const window = c.timeframe || 360;
      for (const [key, list] of byKey) {
        let drop = 0;
        while (drop < list.length && now - list[drop]!.time > window) drop++;
        if (drop === list.length) byKey.delete(key);
        else if (drop) list.splice(0, drop);
      }
      if (!byKey.size) this.buckets.delete(c);
    }
  }

  /** Key of the same_* values; undefined when the event lacks one (it can then never correlate). */
  private sameKey(ev: LogEvent, c: Rule): string | undefined {
    if (!c.same.length) return '';
    let key = '';
    for (const f of c.same) {
      const v = this.field(ev, f);
      if (v === undefined) return undefined;
      key += `${v}\u0000`;
    }
    return key;
  }

  private field(ev: LogEvent, name: string): string | undefined {
    switch (name) {
      case 'location':
        return ev.location;
      case 'hostname':
        return ev.hostname;
      case 'program_name':
        return ev.programName;
      default:
        return getField(ev, name);
    }
  }

  /** analysisd's OS_CheckIfRuleMatch: the rule's own tests, then the first matching child. */
  private check(ctx: EvalContext, node: RuleNode): Rule | null {
    const ev = ctx.ev;
    const rule = node.rule;
    if (rule.decodedAs !== undefined && rule.decodedAs !== ev.decoder?.name) return null;
    if (rule.maxsize && ev.log.length < rule.maxsize) return null;
    // Short static fields first: they are cheaper than scanning the whole log line.
    for (const c of rule.checks) {
      const v = this.field(ev, c.field);
      if (v === undefined || !c.expr.test(v)) return null;
    }
    if (rule.match && !rule.match.test(ev.log)) return null;
    if (rule.regex && !rule.regex.test(ev.log)) return null;
    if (rule.user) {
      const u = ev.fields.get('dstuser') ?? ev.fields.get('srcuser');
      if (u === undefined || !rule.user.test(u)) return null;
    }
    if (rule.srcip) {
      const ip = ev.fields.get('srcip');
      if (ip === undefined || ipFoundList(ip, rule.srcip) === !!rule.srcipNegate) return null;
    }
    if (rule.dstip) {
      const ip = ev.fields.get('dstip');
      if (ip === undefined || ipFoundList(ip, rule.dstip) === !!rule.dstipNegate) return null;
    }
    for (const f of rule.fields) {
      const v = this.field(ev, f.name);
      if (v === undefined || !f.expr.test(v)) return null;
    }
    if (rule.time || rule.weekdays) {
      const d = new Date(ev.time * 1000);
      if (rule.time) {
        const m = d.getUTCHours() * 60 + d.getUTCMinutes();
        const { from, to } = rule.time;
        const inside = from <= to ? m >= from && m < to : m >= from || m < to;
        if (!inside) return null;
      }
      if (rule.weekdays && !rule.weekdays.has(d.getUTCDay())) return null;
    }
    for (const l of rule.lists) if (!this.checkList(ev, l)) return null;
    if (rule.compiledRule && !this.compiled(ev, rule.compiledRule)) return null;
    if (rule.checkDiff && !this.outputChanged(ctx, rule)) return null;
    if (rule.ifFts && !this.firstTimeSeen(ctx)) return null;
    if (rule.ifMatchedSid !== undefined || rule.ifMatchedGroup || rule.frequency) {
      if (!this.correlate(ctx, rule)) return null;
    }
    const first = ctx.first;
    for (const child of this.narrow(childrenFor(node, ev.decoder?.name ?? '', ev.programName), ev)) {
      // An anchored <match>/<regex> that cannot start with the log's first character: skip.
      const sc = child.rule.startChars;
      if (sc !== undefined && sc[first] === 0) continue;
      const r = this.check(ctx, child);
      if (r) return r;
    }
    // A noalert rule that no child refines lets its siblings try (analysisd's NO_ALERT).
    if (rule.noalert) return null;
    return rule;
  }

  /**
   * analysisd's doDiff: the first output a check_diff rule sees is only stored; later it matches
   * when the output differs from the one before (command outputs: `netstat` ports, `last`).
   */
  private outputChanged(ctx: EvalContext, rule: Rule): boolean {
    const now = ctx.ev.log;
    const before = this.lastOutput.get(rule.id);
    this.lastOutput.set(rule.id, now);
    if (before === undefined || before === now) return false;
    ctx.previousOutput = before;
    return true;
  }

  /** Drops the children whose exact test on the list's index field cannot hold for this event. */
  private narrow(entry: ChildList, ev: LogEvent): RuleNode[] {
    const absent = entry.presenceField !== undefined && this.field(ev, entry.presenceField) === undefined;
    if (entry.startField !== undefined) {
      const v = this.field(ev, entry.startField);
      // 130: the field is missing (its rules cannot match).
      const at = (v === undefined ? 130 : startIndex(v)) * 2 + (absent ? 1 : 0);
      let list = entry.perStart![at];
      if (!list) entry.perStart![at] = list = narrowByStart(entry, v, absent);
      return list;
    }
    if (!entry.indexField) return absent ? entry.withoutField! : entry.list;
    const raw = this.field(ev, entry.indexField);
    const value = raw === undefined ? '\u0000missing' : raw.toLowerCase();
    const key = absent ? `${value}\u0000absent` : value;
    let list = entry.perValue!.get(key);
    if (!list) {
      const ok = entry.byValue!.get(value);
      list = entry.list.filter((c) => (!entry.indexed!.has(c) || (ok?.has(c) ?? false)) && !(absent && entry.needField!.has(c)));
      if (entry.perValue!.size < 256) entry.perValue!.set(key, list);
    }
    return list;
  }

  /** The analysisd compiled rules (generic_samples.c) the shipped rules use. */
  private compiled(ev: LogEvent, name: string): boolean {
    switch (name) {
      case 'is_simple_http_request': {
        const url = ev.fields.get('url');
        if (url === undefined) return false;
        return url === '/' || !url.includes('?');
      }
      case 'is_valid_crawler':
        return ['66.249.', '72.14.', '209.85.', '65.55.', '207.46.', '74.6.', '72.30.', '67.195.'].some((p) => ev.log.startsWith(p));
      case 'comp_srcuser_dstuser': {
        const a = ev.fields.get('srcuser');
        const b = ev.fields.get('dstuser');
        return a !== undefined && b !== undefined && a === b;
      }
      case 'check_id_size': {
        const id = ev.fields.get('id');
        return id !== undefined && id.length >= 10;
      }
      default:
        return false;
    }
  }

  /**
   * First-time-seen: the decoder's `<fts>` fields form a key; the first event with a new key passes
   * and records it. Once passed, further if_fts rules of the same event pass too.
   */
  private firstTimeSeen(ctx: EvalContext): boolean {
    if (ctx.ftsDone) return true;
    const d = ctx.ev.decoder;
    if (!d || !d.fts.length) return false;
    const key = d.fts.map((f) => (f === 'name' ? d.name : (this.field(ctx.ev, f) ?? ''))).join('\u0000');
    if (this.ftsSeen.has(key)) return false;
    this.ftsSeen.add(key);
    ctx.ftsDone = true;
    return true;
  }

  private checkList(ev: LogEvent, l: Rule['lists'][number]): boolean {
    const list = this.ruleset.lists.get(l.list);
    const v = this.field(ev, l.field);
    if (v === undefined) return false;
    const address = l.lookup.startsWith('address') || l.lookup.startsWith('not_address');
    const value = list ? (address ? list.getAddress(v) : list.get(v)) : undefined;
    switch (l.lookup) {
      case 'match_key':
      case 'address_match_key':
        return value !== undefined;
      case 'not_match_key':
      case 'not_address_match_key':
        return value === undefined;
      case 'match_key_value':
      case 'address_match_key_value':
        return value !== undefined && (!l.checkValue || l.checkValue.test(value));
    }
  }

  /** Search_LastSids / Search_LastGroups: enough recent, compatible events in the window. */
  private correlate(ctx: EvalContext, rule: Rule): boolean {
    const ev = ctx.ev;
    const key = this.sameKey(ev, rule);
    if (key === undefined) return false;
    const list = this.buckets.get(rule)?.get(key);
    if (!list) return false;
    const needed = rule.frequency > 2 ? rule.frequency - 1 : 1;
    const found: PastEvent[] = [];
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i]!;
      if (rule.timeframe && ev.time - p.time > rule.timeframe) break;
      // Events an earlier alert of this level consumed end the search (no double counting).
      if (p.matched >= rule.level && rule.frequency) break;
      if (!this.different(ev, p, rule)) continue;
      found.push(p);
      if (found.length >= needed) {
        ctx.consumed = found;
        ctx.consumedRule = rule;
        return true;
      }
    }
    return false;
  }

  private different(ev: LogEvent, p: PastEvent, rule: Rule): boolean {
    for (const f of rule.different) {
      const a = this.field(ev, f);
      if (a !== undefined && a === p.vals?.get(f)) return false;
    }
    for (const f of rule.notSame) {
      const a = this.field(ev, f);
      if (a !== undefined && a === p.vals?.get(f)) return false;
    }
    return true;
  }
}

/** A DecodedEvent whose `fields` record is built on first read (most callers only look at the rule). */
class LazyDecodedEvent implements DecodedEvent {
  // Declared only: the optional members exist on an event only when they are set.
  declare timestamp?: string;
  declare hostname?: string;
  declare programName?: string;
  declare decoder?: string;
  declare parentDecoder?: string;
  declare previousOutput?: string;
  #fields: Record<string, string> | undefined;
  #source: Map<string, string>;
  constructor(
    readonly fullLog: string,
    readonly log: string,
    readonly location: string,
    source: Map<string, string>,
  ) {
    this.#source = source;
  }
  get fields(): Record<string, string> {
    this.#fields ??= Object.fromEntries(this.#source);
    return this.#fields;
  }
  /** Serialised like a plain object (JSON.stringify does not see getters on prototypes). */
  toJSON(): DecodedEvent {
    const out: DecodedEvent = { fullLog: this.fullLog, log: this.log, location: this.location, fields: this.fields };
    if (this.timestamp !== undefined) out.timestamp = this.timestamp;
    if (this.hostname !== undefined) out.hostname = this.hostname;
    if (this.programName !== undefined) out.programName = this.programName;
    if (this.decoder !== undefined) out.decoder = this.decoder;
    if (this.parentDecoder !== undefined) out.parentDecoder = this.parentDecoder;
    if (this.previousOutput !== undefined) out.previousOutput = this.previousOutput;
    return out;
  }
}

interface EvalContext {
  ev: LogEvent;
  /** startIndex of the log, for the rules' start tables. */
  first: number;
  ftsDone: boolean;
  consumed: PastEvent[] | null;
  consumedRule?: Rule;
  previousOutput?: string;
}

/** Replaces `$(field)` in a description by the event's value, as analysisd does for alerts. */
function expandFields(text: string, _ev: LogEvent, get: (name: string) => string | undefined): string {
  if (!text.includes('$(')) return text;
  return text.replace(/\$\(([^)\s]+)\)/g, (_all, name: string) => get(name === 'user' ? 'dstuser' : name) ?? '');
}

/**
 * The children an event can possibly match, in order: decoded_as and program_name depend only on
 * the decoder and the program name, so the filtered list is cached per (decoder, program).
 */
function childrenFor(node: RuleNode, decoder: string, program: string | undefined): ChildList {
  let cache = node.byDecoder;
  if (!cache) node.byDecoder = cache = new Map();
  const key = program === undefined ? decoder : `${decoder}\u0000${program}`;
  let entry = cache.get(key);
  if (!entry) {
    const list =
      node.children.length < 8
        ? node.children
        : node.children.filter((c) => {
            const r = c.rule;
            if (r.decodedAs !== undefined && r.decodedAs !== decoder) return false;
            for (const check of r.checks) {
              if (check.field !== 'program_name') continue;
              if (program === undefined || !check.expr.test(program)) return false;
            }
            return true;
          });
    entry = {
      list,
      indexField: undefined,
      byValue: undefined,
      indexed: undefined,
      perValue: undefined,
      presenceField: undefined,
      withoutField: undefined,
      needField: undefined,
      startField: undefined,
      perStart: undefined,
    };
    buildIndex(entry);
    if (cache.size < 1024) cache.set(key, entry);
  }
  return entry;
}

/** Picks the field most rules of the list compare exactly and indexes them by value. */
function buildIndex(entry: ChildList): void {
  if (entry.list.length < 8) return;
  if (entry.list.length < 16) {
    buildPresenceIndex(entry, undefined);
    return;
  }
  const counts = new Map<string, number>();
  for (const c of entry.list) for (const f of c.rule.fields) if (f.expr.exactValues()) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 7;
  for (const [f, n] of counts) if (n > bestCount) [best, bestCount] = [f, n];
  if (!best) {
    const start = startIndexField(entry);
    if (start !== undefined) {
      entry.startField = start;
      entry.perStart = new Array<RuleNode[] | undefined>(262);
    }
    buildPresenceIndex(entry, start);
    return;
  }
  const byValue = new Map<string, Set<RuleNode>>();
  const indexed = new Set<RuleNode>();
  for (const c of entry.list) {
    const f = c.rule.fields.find((x) => x.name === best && x.expr.exactValues());
    if (!f) continue;
    indexed.add(c);
    for (const v of f.expr.exactValues()!) {
      let set = byValue.get(v);
      if (!set) byValue.set(v, (set = new Set()));
      set.add(c);
    }
  }
  entry.indexField = best;
  entry.byValue = byValue;
  entry.indexed = indexed;
  entry.perValue = new Map();
  buildPresenceIndex(entry, best);
}

/**
 * Fields a rule cannot match without: every `<field>` and static-field test (program_name,
 * hostname and location are always known or handled before, so they are left out).
 */
function requiredFields(r: Rule): string[] {
  const out: string[] = [];
  for (const f of r.fields) out.push(f.name);
  for (const c of r.checks) if (c.field !== 'program_name' && c.field !== 'hostname' && c.field !== 'location') out.push(c.field);
  return out;
}

/** The field most rules of the list need: events without it skip all of those rules at once. */
function buildPresenceIndex(entry: ChildList, indexField: string | undefined): void {
  const counts = new Map<string, number>();
  for (const c of entry.list)
    for (const f of new Set(requiredFields(c.rule))) if (f !== indexField) counts.set(f, (counts.get(f) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 3;
  for (const [f, n] of counts) if (n > bestCount) [best, bestCount] = [f, n];
  if (best === undefined) return;
  const field = best;
  entry.presenceField = field;
  entry.needField = new Set(entry.list.filter((c) => requiredFields(c.rule).includes(field)));
  entry.withoutField = entry.list.filter((c) => !entry.needField!.has(c));
}

/** The field most rules of the list test with an anchored, non-negated pattern (at least 8). */
function startIndexField(entry: ChildList): string | undefined {
  const counts = new Map<string, number>();
  for (const c of entry.list)
    for (const f of new Set(c.rule.fields.filter((x) => !x.expr.negate && x.expr.startChars).map((x) => x.name)))
      counts.set(f, (counts.get(f) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 7;
  for (const [f, n] of counts) if (n > bestCount) [best, bestCount] = [f, n];
  return best;
}

/** The rules of the list that can match an event whose start field has value `v`. */
function narrowByStart(entry: ChildList, v: string | undefined, absent: boolean): RuleNode[] {
  const field = entry.startField!;
  const at = v === undefined ? -1 : startIndex(v);
  return entry.list.filter((c) => {
    if (absent && entry.needField?.has(c)) return false;
    for (const f of c.rule.fields) {
      if (f.name !== field) continue;
      // Every test of a field needs the field; an anchored one also its first character.
      if (at < 0) return false;
      const sc = f.expr.negate ? undefined : f.expr.startChars;
      if (sc !== undefined && sc[at] === 0) return false;
    }
    return true;
  });
}
