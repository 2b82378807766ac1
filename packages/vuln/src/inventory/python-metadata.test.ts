import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePythonMetadata } from './python-metadata.ts';

test('headers end at the first blank line', () => {
  const r = parsePythonMetadata('Metadata-Version: 2.1\r\nName: PyYAML\r\nVersion: 5.3.1\r\n\r\nName: not-this\r\n', 'METADATA');
  assert.deepEqual(
    r.items.map((i) => [i.ecosystem, i.name, i.version, i.purl]),
    [['PyPI', 'PyYAML', '5.3.1', 'pkg:pypi/pyyaml@5.3.1']],
  );
  const bad = parsePythonMetadata('Summary: x\n', 'PKG-INFO');
  assert.equal(bad.items.length, 0);
  assert.equal(bad.diagnostics[0]!.code, 'VULN_INVENTORY_PYTHON_METADATA');
});
