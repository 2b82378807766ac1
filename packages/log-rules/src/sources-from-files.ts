import type { RulesetSources, SourceFile } from './log-ruleset.ts';

/**
 * Sorts a bag of files into decoders, rules and CDB lists: XML files whose first element is a
 * `<decoder>` are decoder files, other XML files are rule files, files under a `lists/`
 * directory are list sources. Each kind loads in file-name order, like analysisd's directories.
 */
export function sourcesFromFiles(files: SourceFile[]): RulesetSources {
  const decoders: SourceFile[] = [];
  const rules: SourceFile[] = [];
  const lists: SourceFile[] = [];
  for (const f of files) {
    if (/(^|\/)lists\//.test(f.path) && !f.path.endsWith('.xml')) {
      lists.push({ path: f.path.replace(/^.*?(^|\/)lists\//, ''), text: f.text });
      continue;
    }
    if (!f.path.endsWith('.xml')) continue;
    const first = /<(?!!|\?)([A-Za-z_][\w.-]*)/.exec(f.text.replace(/<!--[\s\S]*?-->/g, ''));
    (first?.[1] === 'decoder' ? decoders : rules).push(f);
  }
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  const byName = (a: SourceFile, b: SourceFile): number => (base(a.path) < base(b.path) ? -1 : base(a.path) > base(b.path) ? 1 : 0);
  return { decoders: decoders.sort(byName), rules: rules.sort(byName), lists };
}
