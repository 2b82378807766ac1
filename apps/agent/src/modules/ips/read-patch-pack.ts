import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PatchFolderFiles } from './virtual-patch-pack.ts';

/** Reads every `<root>/<id>/` folder of the pack (the only I/O around the pure loader). */
export function readPatchPack(root: string, only?: readonly string[]): PatchFolderFiles[] {
  const out: PatchFolderFiles[] = [];
  for (const name of readdirSync(root).sort()) {
    if (only && !only.includes(name)) continue;
    const dir = join(root, name);
    if (!existsSync(join(dir, 'rule.conf'))) continue;
    const tests: Record<string, string> = {};
    const tdir = join(dir, 'tests');
    if (existsSync(tdir))
      for (const t of readdirSync(tdir).sort()) if (t.endsWith('.jsonl')) tests[t] = readFileSync(join(tdir, t), 'utf8');
    out.push({
      dir,
      ruleConf: readFileSync(join(dir, 'rule.conf'), 'utf8'),
      metaYaml: existsSync(join(dir, 'meta.yaml')) ? readFileSync(join(dir, 'meta.yaml'), 'utf8') : '',
      tests,
    });
  }
  return out;
}
