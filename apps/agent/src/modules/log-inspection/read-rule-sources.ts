import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RulesetSources, SourceFile } from '@palisade/log-rules';
import { sourcesFromFiles } from '@palisade/log-rules';

/**
 * Reads rule directories for the engine: every file below each directory (sorted, so loading is
 * deterministic), test fixtures (`tests/` folders) left out. The engine tells decoders, rules and
 * CDB lists apart by content and folder (`sourcesFromFiles`), so both Palisade's `rules/log`
 * layout (`decoders/`, `rules/`) and a Wazuh tree (`ruleset/decoders`, `etc/lists`, …) load.
 * Throws with the path when a directory cannot be read.
 */
export function readRuleSources(dirs: readonly string[], extra: readonly SourceFile[] = []): RulesetSources {
  const files: SourceFile[] = [];
  for (const dir of dirs) {
    const walk = (d: string): void => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        const st = statSync(p);
        if (st.isDirectory()) {
          if (name !== 'tests') walk(p);
        } else if (st.isFile()) files.push({ path: p, text: readFileSync(p, 'utf8') });
      }
    };
    walk(dir);
  }
  return sourcesFromFiles([...files, ...extra]);
}
