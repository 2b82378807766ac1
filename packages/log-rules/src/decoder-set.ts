import type { Diagnostic } from '@palisade/diagnostics';
import { Expression, parseExpressionType } from './expression.ts';
import { decodeJson } from './json-decoder.ts';
import { type LogEvent, setField } from './log-event.ts';
import { startIndex } from './start-chars.ts';
import type { XmlNode } from './xml-node.ts';

export type DecoderOffset = 'none' | 'after_parent' | 'after_prematch' | 'after_regex';

/** One `<decoder>` block. Children share their parent's name unless `use_own_name` is set. */
export interface Decoder {
  /** Name reported for events (the parent's name for children, unless use_own_name). */
  name: string;
  ownName: string;
  parent?: string;
  programName?: Expression;
  prematch?: Expression;
  prematchOffset: DecoderOffset;
  regex?: Expression;
  regexOffset: DecoderOffset;
  order: string[];
  type: string;
  plugin?: { name: string; offset: DecoderOffset };
  jsonNullField: 'empty' | 'discard' | 'string';
  /** First-time-seen key fields (`<fts>`), empty when the decoder has none. */
  fts: string[];
  children: Decoder[];
  /** Set when the next sibling has the same name: its regex continues the extraction. */
  getNext: boolean;
  file: string;
  line: number;
}

/** Static field names of analysisd; `user` is stored as `dstuser` like Wazuh does. */
const FIELD_ALIASES: Record<string, string> = { user: 'dstuser' };

export function fieldName(order: string): string {
  return FIELD_ALIASES[order] ?? order;
}

const KNOWN_PLUGINS = new Set(['JSON_Decoder', 'OSSECAlert_Decoder', 'PF_Decoder', 'SymantecWS_Decoder', 'SonicWall_Decoder']);

function parseOffset(v: string | undefined, allowed: DecoderOffset[]): DecoderOffset | null {
  if (v === undefined || v === '') return 'none';
  return (allowed as string[]).includes(v) ? (v as DecoderOffset) : null;
}

/**
 * The decoder tree in load order, split like analysisd: decoders with a program_name, used for
 * events whose syslog header names a program, then the generic ones.
 */
export class DecoderSet {
  readonly withProgram: Decoder[] = [];
  readonly generic: Decoder[] = [];
  /** Top-level decoders by name; a name may have several (one with program_name, one without). */
  private readonly byName = new Map<string, Decoder[]>();

  /** Adds the `<decoder>` elements of one file, reporting problems as diagnostics. */
  addFile(nodes: XmlNode[], file: string, diagnostics: Diagnostic[]): void {
    for (const node of nodes) {
      if (node.name !== 'decoder') {
        if (node.name === 'var') continue;
        diagnostics.push({
          code: 'LOGRULES_DECODER_UNKNOWN_ELEMENT',
          message: `unexpected <${node.name}> at top level of a decoder file`,
          severity: 'error',
          file,
          line: node.line,
          column: node.column,
        });
        continue;
      }
      this.addDecoder(node, file, diagnostics);
    }
  }

  private addDecoder(node: XmlNode, file: string, diagnostics: Diagnostic[]): void {
    const err = (code: string, message: string, at: XmlNode = node): void => {
      diagnostics.push({ code, message, severity: 'error', file, line: at.line, column: at.column });
    };
    const ownName = node.attributes.name;
    if (!ownName) {
      err('LOGRULES_DECODER_NO_NAME', '<decoder> needs a name attribute');
      return;
    }
    const d: Decoder = {
      name: ownName,
      ownName,
      prematchOffset: 'none',
      regexOffset: 'none',
      order: [],
      type: 'syslog',
      jsonNullField: 'string',
      fts: [],
      children: [],
      getNext: false,
      file,
      line: node.line,
      parent: undefined,
      programName: undefined,
      prematch: undefined,
      regex: undefined,
      plugin: undefined,
    };
    let useOwnName = false;
    let typeSet = false;
    let programText: string | undefined;
    let programType: string | undefined;
    let prematchText: string | undefined;
    let prematchType: string | undefined;
    let regexText: string | undefined;
    let regexType: string | undefined;
    for (const c of node.children) {
      const v = c.text.trim();
      switch (c.name) {
        case 'parent':
          d.parent = v;
          break;
        case 'program_name':
          // Repeated elements concatenate; the last type given applies to the whole.
          programText = (programText ?? '') + c.text;
          programType = c.attributes.type ?? programType;
          break;
        case 'prematch': {
          prematchText = (prematchText ?? '') + c.text;
          prematchType = c.attributes.type ?? prematchType;
          const off = parseOffset(c.attributes.offset, ['after_parent']);
          if (off === null) err('LOGRULES_DECODER_BAD_OFFSET', `prematch offset "${c.attributes.offset}" is not valid`, c);
          else if (off !== 'none') d.prematchOffset = off;
          break;
        }
        case 'regex': {
          regexText = (regexText ?? '') + c.text;
          regexType = c.attributes.type ?? regexType;
          const off = parseOffset(c.attributes.offset, ['after_parent', 'after_prematch', 'after_regex']);
          if (off === null) err('LOGRULES_DECODER_BAD_OFFSET', `regex offset "${c.attributes.offset}" is not valid`, c);
          else if (off !== 'none') d.regexOffset = off;
          break;
        }
        case 'order':
          d.order = v.split(',').map((s) => fieldName(s.trim()));
          break;
        case 'type':
          d.type = v;
          typeSet = true;
          break;
        case 'use_own_name':
          useOwnName = v === 'true' || v === 'yes';
          break;
        case 'plugin_decoder': {
          if (!KNOWN_PLUGINS.has(v)) err('LOGRULES_DECODER_UNKNOWN_PLUGIN', `unknown plugin decoder "${v}"`, c);
          const off = parseOffset(c.attributes.offset, ['after_parent', 'after_prematch']);
          d.plugin = { name: v, offset: off ?? 'none' };
          break;
        }
        case 'json_null_field':
          if (v === 'discard' || v === 'empty' || v === 'string') d.jsonNullField = v;
          else err('LOGRULES_DECODER_BAD_VALUE', `json_null_field must be discard, empty or string`, c);
          break;
        case 'fts':
          d.fts = v
            .split(',')
            .map((x) => fieldName(x.trim()))
            .filter(Boolean);
          break;
        case 'ftscomment':
        case 'accumulate':
        case 'json_array_structure':
        case 'var':
          break;
        default:
          err('LOGRULES_DECODER_UNKNOWN_ELEMENT', `unknown decoder option <${c.name}>`, c);
      }
    }
    if (programText !== undefined) {
      const t = parseExpressionType(programType, 'osmatch');
      const e = t ? Expression.compile(t, programText.trim()) : `unknown type "${programType}"`;
      if (typeof e === 'string') err('LOGRULES_BAD_PATTERN', `program_name: ${e}`);
      else d.programName = e;
    }
    if (prematchText !== undefined) {
      const t = parseExpressionType(prematchType, 'osregex');
      const e = t ? Expression.compile(t, prematchText) : `unknown type "${prematchType}"`;
      if (typeof e === 'string') err('LOGRULES_BAD_PATTERN', `prematch: ${e}`);
      else d.prematch = e;
    }
    if (regexText !== undefined) {
      const t = parseExpressionType(regexType, 'osregex');
      const e = t ? Expression.compile(t, regexText) : `unknown type "${regexType}"`;
      if (typeof e === 'string') err('LOGRULES_BAD_PATTERN', `regex: ${e}`);
      else d.regex = e;
    }
    if (d.parent !== undefined) {
      const parents = this.byName.get(d.parent);
      if (!parents) {
        err('LOGRULES_DECODER_NO_PARENT', `parent decoder "${d.parent}" is not defined before this decoder`);
        return;
      }
      for (const parent of parents) {
        const child = parents.length > 1 ? { ...d, children: [] } : d;
        if (!useOwnName) child.name = parent.name;
        if (!typeSet) child.type = parent.type;
        const last = parent.children[parent.children.length - 1];
        if (last && last.ownName === child.ownName) last.getNext = true;
        parent.children.push(child);
      }
      return;
    }
    if (!d.programName && !d.prematch && !d.plugin && !d.regex) {
      err('LOGRULES_DECODER_NO_MATCHER', `decoder "${ownName}" needs a program_name or a prematch`);
      return;
    }
    const same = this.byName.get(ownName);
    if (same) same.push(d);
    else this.byName.set(ownName, [d]);
    (d.programName ? this.withProgram : this.generic).push(d);
  }

  /** Runs the decoders over the event like analysisd's DecodeEvent, filling decoder and fields. */
  /** Top-level decoders whose program_name accepts a given program name, in order (a cache). */
  private readonly byProgram = new Map<string, Decoder[]>();

  private candidates(programName: string | undefined): Decoder[] {
    if (programName === undefined) return this.generic;
    let list = this.byProgram.get(programName);
    if (!list) {
      list = [...this.withProgram.filter((d) => d.programName!.test(programName)), ...this.generic];
      // Program names come from the log, so the cache is bounded.
      if (this.byProgram.size < 4096) this.byProgram.set(programName, list);
    }
    return list;
  }

  decode(ev: LogEvent): void {
    const log = ev.log;
    // Anchored prematches (most of them) are ruled out by the first character alone.
    const first = startIndex(log);
    {
      for (const top of this.candidates(ev.programName)) {
        let pmatch = 0;
        if (top.prematch) {
          const sc = top.prematch.startChars;
          if (sc !== undefined && sc[first] === 0) continue;
          const r = top.prematch.exec(log);
          if (!r) continue;
          pmatch = r.end;
        }
        ev.decoder = top;
        this.extract(ev, top, pmatch);
        return;
      }
    }
  }

  private extract(ev: LogEvent, top: Decoder, pmatch: number): void {
    const log = ev.log;
    if (top.children.length === 0) {
      if (top.plugin) return this.runPlugin(ev, top, pmatch, pmatch);
      if (top.regex) this.applyRegex(ev, top, top.regex.exec(log), 0);
      return;
    }
    let idx = -1;
    let cmatch = pmatch;
    for (let k = 0; k < top.children.length; k++) {
      const c = top.children[k]!;
      if (c.prematch) {
        const base = c.prematchOffset === 'after_parent' ? pmatch : 0;
        const sc = c.prematch.startChars;
        const r = sc !== undefined && sc[startIndex(log, base)] === 0 ? null : c.prematch.exec(base ? log.slice(base) : log);
        if (r) {
          cmatch = base + r.end;
          idx = k;
          break;
        }
        // Its same-named followers only continue it; they are no candidates of their own.
        while (top.children[k]!.getNext && k + 1 < top.children.length) k++;
      } else {
        cmatch = pmatch;
        idx = k;
        break;
      }
    }
    if (idx < 0) return;
    let node = top.children[idx]!;
    ev.decoder = node;
    if (node.plugin) return this.runPlugin(ev, node, pmatch, cmatch);
    let regexPrev = -1;
    for (;;) {
      let ok = true;
      if (node.regex) {
        let base = 0;
        if (node.regexOffset === 'after_prematch') base = cmatch;
        else if (node.regexOffset === 'after_parent') base = pmatch;
        else if (node.regexOffset === 'after_regex') base = regexPrev >= 0 ? regexPrev : cmatch;
        const r = node.regex.exec(base ? log.slice(base) : log);
        if (r) {
          regexPrev = base + r.end;
          this.applyRegex(ev, node, r, base);
        } else ok = false;
      }
      if (!node.getNext) return;
      if (!ok && !node.getNext) return;
      // Continue with the next same-named sibling whose own prematch (if any) holds.
      let next: Decoder | undefined;
      while (++idx < top.children.length) {
        const c = top.children[idx]!;
        if (c.prematch) {
          const base = c.prematchOffset === 'after_parent' ? pmatch : 0;
          const sc = c.prematch.startChars;
          const r = sc !== undefined && sc[startIndex(log, base)] === 0 ? null : c.prematch.exec(base ? log.slice(base) : log);
          if (!r) {
            if (!c.getNext) break;
            continue;
          }
          cmatch = base + r.end;
        }
        next = c;
        break;
      }
      if (!next) return;
      node = next;
    }
  }

  private applyRegex(ev: LogEvent, d: Decoder, r: { captures: string[] } | null, _base: number): void {
    if (!r) return;
    for (let k = 0; k < r.captures.length && k < d.order.length; k++) {
      const name = d.order[k]!;
      if (!name) continue;
      const value = r.captures[k]!;
      // analysisd keeps the first value a static field receives; dynamic fields alike.
      setField(ev, name, value);
    }
  }

  private runPlugin(ev: LogEvent, d: Decoder, pmatch: number, cmatch: number): void {
    const plugin = d.plugin!;
    if (plugin.name !== 'JSON_Decoder') return;
    const off = plugin.offset === 'after_parent' ? pmatch : plugin.offset === 'after_prematch' ? cmatch : 0;
    decodeJson(ev.log.slice(off), ev, d.jsonNullField);
  }
}
