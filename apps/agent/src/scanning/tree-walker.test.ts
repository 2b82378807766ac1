import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSignatures } from '@palisade/signatures';
import { scanTrees } from './malware-scan.ts';
import { walkTree } from './tree-walker.ts';

function tree(): string {
  const d = mkdtempSync(join(tmpdir(), 'palisade-walk-'));
  mkdirSync(join(d, 'sub/deeper'), { recursive: true });
  mkdirSync(join(d, 'cache'));
  writeFileSync(join(d, 'a.php'), '<?php eval($_POST["x"]); ?>');
  writeFileSync(join(d, 'sub/b.txt'), 'clean');
  writeFileSync(join(d, 'sub/deeper/c.log'), 'eval($_POST');
  writeFileSync(join(d, 'cache/d.php'), 'eval($_POST');
  writeFileSync(join(d, 'big.bin'), new Uint8Array(5000));
  symlinkSync('/etc', join(d, 'link-to-etc'));
  return d;
}

test('walk: exclusions by glob, extension and size; links are not followed', async () => {
  const d = tree();
  try {
    const seen: string[] = [];
    for await (const e of walkTree([d], { excludePaths: ['**/cache'], excludeExtensions: ['log'], maxFileSize: 1000 })) {
      seen.push(`${e.path.slice(d.length + 1)}${'skipped' in e ? ` (${e.skipped})` : ''}`);
    }
    assert.deepEqual(seen, ['a.php', 'big.bin (too-large)', 'cache (excluded)', 'link-to-etc (not-regular)', 'sub/b.txt', 'sub/deeper/c.log (excluded)']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('scanTrees gives the same result on the main thread and on worker threads', async () => {
  const d = tree();
  try {
    const sources = { clamav: [{ name: 'w.ndb', bytes: new TextEncoder().encode('Php.Eval.Post:0:*:6576616c28245f504f5354\n') }] };
    const loaded = loadSignatures(sources);
    assert.ok(loaded.ok);
    const run = async (workers: number) => {
      const s = await scanTrees([d], loaded.value, sources, { workers });
      return s.infected.map((r) => `${r.path.slice(d.length + 1)}:${r.detections.map((x) => x.name).join(',')}`);
    };
    const main = await run(0);
    assert.deepEqual(main, ['a.php:Php.Eval.Post', 'cache/d.php:Php.Eval.Post', 'sub/deeper/c.log:Php.Eval.Post']);
    assert.deepEqual(await run(2), main);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
