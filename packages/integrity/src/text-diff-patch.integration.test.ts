import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { unifiedDiff } from './text-diff.ts';

/** GNU patch as an independent oracle: what it makes of our diff must be the new text. */
test('GNU patch applies every diff exactly (seeded random edits, CRLF and missing final newlines included)', (t) => {
  const patch = spawnSync('patch', ['--version']);
  if (patch.status !== 0) {
    t.skip('GNU patch is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'palisade-diff-patch-'));
  try {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const words = ['Port 22', 'PermitRootLogin no', 'a', 'b', '', '  indented', 'x = 1', 'tab\there', 'end\r'];
    for (let round = 0; round < 60; round++) {
      const a = Array.from({ length: rnd(40) }, () => words[rnd(words.length)]!);
      const b = [...a];
      for (let k = rnd(8); k > 0; k--) {
        const at = rnd(b.length + 1);
        if (rnd(3) === 0 && b.length) b.splice(Math.min(at, b.length - 1), 1);
        else if (rnd(2) === 0 && b.length) b[Math.min(at, b.length - 1)] = words[rnd(words.length)]!;
        else b.splice(at, 0, words[rnd(words.length)]!);
      }
      const join_ = (l: string[]) => (l.length === 0 ? '' : l.join('\n') + (rnd(4) === 0 ? '' : '\n'));
      const before = join_(a);
      const after = join_(b);
      const d = unifiedDiff(before, after, { context: rnd(4) });
      const file = join(dir, 'f');
      writeFileSync(file, before);
      if (d.diff === '') {
        assert.equal(before, after);
        continue;
      }
      const r = spawnSync('patch', ['--quiet', '--force', '--no-backup-if-mismatch', file], { input: d.diff });
      assert.equal(r.status, 0, `patch failed (${r.stdout}${r.stderr}) on:\n${d.diff}`);
      assert.equal(readFileSync(file, 'utf8'), after, `round ${round}:\n${d.diff}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
