import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));

test('webrep check prints one verdict per URL as JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-webrepcli-'));
  try {
    writeFileSync(join(dir, 'hosts'), '0.0.0.0 evil.example\n');
    writeFileSync(join(dir, 'sus.txt'), '# palisade: risk=suspicious category=ads\nads.example\n');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        main,
        'webrep',
        'check',
        '--feed',
        join(dir, 'hosts'),
        '--feed',
        join(dir, 'sus.txt'),
        '--level',
        'medium',
        '--json',
        'http://a.evil.example/x',
        'https://ads.example/',
        'https://fine.example/',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      { url: 'http://a.evil.example/x', action: 'block', risk: 'dangerous', category: 'blocklist', feed: 'hosts' },
      { url: 'https://ads.example/', action: 'allow', risk: 'suspicious', category: 'ads', feed: 'sus.txt' },
      { url: 'https://fine.example/', action: 'allow', risk: 'untested', category: null, feed: null },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
