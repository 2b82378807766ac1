import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });

test('fim baseline then fim check --json on a tree, offline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-fimcli-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/app.conf'), 'a=1\n');
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, 'rules:\n  - id: etc\n    paths: [/etc]\n    severity: high\n');
    const db = join(dir, 'b.db');
    const b = cli('fim', 'baseline', '--rules', rules, '--db', db, '--root', root);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /baseline: 2 entities/);
    const same = cli('fim', 'check', '--rules', rules, '--db', db);
    assert.equal(same.status, 0, same.stderr);
    writeFileSync(join(root, 'etc/app.conf'), 'a=2\n');
    const changed = cli('fim', 'check', '--rules', rules, '--db', db, '--json');
    assert.equal(changed.status, 4, changed.stderr);
    const out = JSON.parse(changed.stdout);
    assert.equal(out.summary.updated, 1);
    assert.equal(out.changes[0].key, '/etc/app.conf');
    assert.ok(out.changes[0].attributes.some((a: { name: string }) => a.name === 'sha256'));
    writeFileSync(rules, 'rules:\n  - id: etc\n    paths: [etc]\n');
    const bad = cli('fim', 'check', '--rules', rules, '--db', db);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /rules.yaml:3:13: error FIM_RULE_PATH_NOT_ABSOLUTE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
