import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Entity } from '@palisade/integrity';
import { BaselineStore } from './baseline-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-baseline-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (key: string): Entity => ({ kind: 'file', key, rule: 'r', attrs: { size: key.length } }) as unknown as Entity;

test('filesUnder reads only the covered rows: the path itself, and with recursive everything below it, not its siblings', () => {
  const store = new BaselineStore(join(dir, 'b.sqlite'));
  try {
    const keys = ['/etc/a', '/etc/a/x', '/etc/a/y/z', '/etc/ab', '/etc/a-b', '/etc/a.conf', '/etc/b', '/usr/bin/ls'];
    store.save([...keys.map(file), { kind: 'user', key: '/etc/a/x', rule: 'r', attrs: {} } as unknown as Entity], {
      createdAt: 'now',
      root: '/',
      rulesSha256: 'x',
      entities: keys.length + 1,
    });
    const under = (path: string, recursive: boolean) =>
      store
        .filesUnder([{ path, recursive }])
        .map((e) => e.key)
        .sort();
    assert.deepEqual(under('/etc/a', true), ['/etc/a', '/etc/a/x', '/etc/a/y/z']);
    assert.deepEqual(under('/etc/a', false), ['/etc/a']);
    assert.deepEqual(under('/etc/a/', true), ['/etc/a/x', '/etc/a/y/z']);
    assert.deepEqual(under('/', true), [...keys].sort());
    assert.deepEqual(under('/nothing', true), []);
    // Overlapping targets: each row once.
    assert.equal(
      store.filesUnder([
        { path: '/etc', recursive: true },
        { path: '/etc/a', recursive: true },
      ]).length,
      7,
    );
    assert.deepEqual(store.filesUnder([{ path: '/usr/bin/ls', recursive: false }])[0]?.attrs, { size: 11 });
    assert.equal(store.count(), keys.length + 1);
    assert.equal([...store.iterate()].length, keys.length + 1);
  } finally {
    store.close();
  }
});
