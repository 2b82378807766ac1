import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNodePackageJson, parsePackageLock } from './npm-packages.ts';

const names = (r: { items: { name: string; version: string }[] }) => r.items.map((i) => `${i.name}@${i.version}`).sort();

test('lockfile v1: nested dependencies, non-registry versions skipped', () => {
  const lock = {
    lockfileVersion: 1,
    dependencies: {
      lodash: { version: '4.17.15' },
      a: { version: '1.0.0', dependencies: { minimist: { version: '0.0.8' } } },
      b: { version: 'github:user/b#abc' },
    },
  };
  assert.deepEqual(names(parsePackageLock(JSON.stringify(lock), 'l')), ['a@1.0.0', 'lodash@4.17.15', 'minimist@0.0.8']);
});

test('lockfile v2/v3: packages map, scoped and nested paths, links and root skipped, duplicates merged', () => {
  const lock = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'root', version: '1.0.0' },
      'node_modules/@scope/x': { version: '2.0.0' },
      'node_modules/a/node_modules/@scope/x': { version: '2.0.0' },
      'node_modules/a/node_modules/lodash': { version: '4.0.0' },
      'node_modules/lodash': { version: '4.17.21' },
      'node_modules/ws': { resolved: 'packages/ws', link: true },
      'packages/ws': { name: 'ws-local', version: '0.1.0' },
    },
  };
  const r = parsePackageLock(JSON.stringify(lock), 'package-lock.json');
  assert.deepEqual(names(r), ['@scope/x@2.0.0', 'lodash@4.0.0', 'lodash@4.17.21', 'ws-local@0.1.0']);
  assert.equal(r.items.find((i) => i.name === '@scope/x')!.purl, 'pkg:npm/%40scope/x@2.0.0');
});

test('bad JSON is an error diagnostic, not an exception', () => {
  const r = parsePackageLock('{', 'broken-lock.json');
  assert.equal(r.items.length, 0);
  assert.equal(r.diagnostics[0]!.code, 'VULN_INVENTORY_JSON');
  assert.deepEqual(parseNodePackageJson('{"name":"x"}', 'p').items, []);
  assert.deepEqual(names(parseNodePackageJson('{"name":"x","version":"1.0.0"}', 'p')), ['x@1.0.0']);
});
