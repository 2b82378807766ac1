// The shipped data module must be exactly what the generator makes from upstream's JSON.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqliCharMap, sqliFingerprints, sqliKeywords } from './sqli-data.ts';
import { renderSqliDataModule, sqliDataModulePath } from './tools/generate-sqli-data.ts';
import { sharedDataDir } from './tools/shared-data-dir.ts';

test('sqli-data.ts is up to date with sqlparse_data.json', () => {
  const json = readFileSync(join(sharedDataDir(), 'sqlparse_data.json'), 'utf8');
  assert.equal(readFileSync(sqliDataModulePath, 'utf8'), renderSqliDataModule(json), 'run tools/generate-sqli-data.ts');
});

test('sqli-data.ts holds the upstream table sizes', () => {
  assert.equal(sqliCharMap.length, 256);
  assert.equal(sqliKeywords.length, 985);
  assert.equal(sqliFingerprints.split(' ').length, 8367);
  const fromTxt = readFileSync(join(sharedDataDir(), 'fingerprints.txt'), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(new Set(sqliFingerprints.split(' ')), new Set(fromTxt.map((f) => f.toUpperCase())));
});
