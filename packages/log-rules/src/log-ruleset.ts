import { type Diagnostic, type LoadResult, loadResult } from '@palisade/diagnostics';
import { CdbList } from './cdb-list.ts';
import { DecoderSet } from './decoder-set.ts';

import { RuleSet } from './rule-set.ts';
import { parseXml } from './xml-node.ts';

/** A named input text: a decoder file, a rule file or a CDB list source. */
export interface SourceFile {
  path: string;
  text: string;
}

export interface RulesetSources {
  /** Decoder files, in load order (analysisd loads each directory sorted by file name). */
  decoders: SourceFile[];
  /** Rule files, in load order. */
  rules: SourceFile[];
  /** CDB list sources; each is known by its path with a leading `etc/lists/` removed. */
  lists?: SourceFile[];
}

/** Decoders, rules and lists loaded together; immutable and shareable between sessions. */
export class LogRuleset {
  constructor(
    readonly decoders: DecoderSet,
    readonly rules: RuleSet,
    readonly lists: ReadonlyMap<string, CdbList>,
  ) {}
}

export function listName(path: string): string {
  return path
    .replace(/^.*?etc\/lists\//, '')
    .replace(/^lists\//, '')
    .replace(/\.cdb$/, '');
}

/** Loads a whole ruleset; any error diagnostic in any file refuses all of it. */
export function loadLogRuleset(sources: RulesetSources): LoadResult<LogRuleset> {
  const diagnostics: Diagnostic[] = [];
  const lists = new Map<string, CdbList>();
  for (const l of sources.lists ?? []) {
    const name = listName(l.path);
    lists.set(name, new CdbList(name, l.text));
  }
  const decoders = new DecoderSet();
  for (const f of sources.decoders) {
    const { nodes, diagnostics: d } = parseXml(f.text, f.path);
    diagnostics.push(...d);
    if (d.some((x) => x.severity === 'error')) continue;
    decoders.addFile(nodes, f.path, diagnostics);
  }
  const rules = new RuleSet(new Set(lists.keys()));
  for (const f of sources.rules) {
    const { nodes, diagnostics: d } = parseXml(f.text, f.path);
    diagnostics.push(...d);
    if (d.some((x) => x.severity === 'error')) continue;
    rules.addFile(nodes, f.path, diagnostics);
  }
  rules.finalize();
  return loadResult(new LogRuleset(decoders, rules, lists), diagnostics);
}
