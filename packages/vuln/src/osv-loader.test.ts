import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { loadOsvBytes, loadOsvZip, parseOsvDocument } from './osv-loader.ts';
import { loadOsvSample, osvSampleDir } from './testing/load-sample.ts';

test('every advisory of the shared OSV sample loads without errors', { skip: !existsSync(osvSampleDir) }, () => {
  const { outcome, files, index } = loadOsvSample();
  assert.equal(files.length, 40);
  assert.equal(outcome.records.length, 40);
  assert.equal(outcome.skipped, 0);
  assert.deepEqual(
    outcome.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  // The two commit-only records (no package) are reported as unmatchable, not silently dropped.
  const gitOnly = outcome.diagnostics.filter((d) => d.code === 'VULN_OSV_GIT_ONLY').map((d) => d.message.split(':')[0]);
  assert.deepEqual(gitOnly.sort(), ['CVE-2024-51757', 'CVE-2025-11187']);
  assert.equal(index.size, 40);
  assert.ok(index.stats.ignoredGitRanges >= 7);
});

test('bad JSON is reported with its position and the record is skipped', () => {
  const out = parseOsvDocument('{\n  "id": "X-1",\n  "modified": oops\n}', 'bad.json');
  assert.equal(out.records.length, 0);
  assert.equal(out.skipped, 1);
  assert.equal(out.diagnostics[0]!.code, 'VULN_OSV_JSON');
  assert.equal(out.diagnostics[0]!.file, 'bad.json');
  assert.equal(out.diagnostics[0]!.line, 3);
});

test('a schema violation names the field and skips only that record', () => {
  const out = parseOsvDocument(
    JSON.stringify([
      { id: 'GOOD-1', modified: '2024-01-01T00:00:00Z' },
      { id: 'BAD-1', modified: '2024-01-01T00:00:00Z', affected: [{ ranges: [{ type: 'ECOSYSTEM', events: 'nope' }] }] },
    ]),
    'list.json',
  );
  assert.deepEqual(
    out.records.map((r) => r.id),
    ['GOOD-1'],
  );
  assert.equal(out.diagnostics.length, 1);
  assert.equal(out.diagnostics[0]!.code, 'VULN_OSV_SCHEMA');
  assert.match(out.diagnostics[0]!.message, /BAD-1.*\/affected\/0\/ranges\/0\/events/);
});

test('all.zip archives load from a buffer; a corrupt member is skipped, the rest kept', () => {
  const rec = (id: string) => strToU8(JSON.stringify({ id, modified: '2024-01-01T00:00:00Z', affected: [] }));
  const zip = zipSync({ 'A-1.json': rec('A-1'), 'B-2.json': rec('B-2'), 'C-3.json': strToU8('{"id": '), 'README.txt': strToU8('x') });
  const out = loadOsvBytes(zip, 'all.zip');
  assert.deepEqual(out.records.map((r) => r.id).sort(), ['A-1', 'B-2']);
  assert.equal(out.skipped, 1);
  assert.equal(out.diagnostics[0]!.file, 'all.zip!C-3.json');
});

test('a corrupt zip is one error, not an exception', () => {
  const bytes = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8]);
  const out = loadOsvZip(bytes, 'broken.zip');
  assert.equal(out.records.length, 0);
  assert.equal(out.diagnostics[0]!.code, 'VULN_OSV_ZIP');
});
