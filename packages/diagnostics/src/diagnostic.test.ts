import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic, LineIndex, loadResult } from './index.ts';

test('formatDiagnostic puts the location first, like a compiler', () => {
  assert.equal(
    formatDiagnostic({ code: 'X_BAD', message: 'bad thing', severity: 'error', file: 'a.conf', line: 3, column: 7 }),
    'a.conf:3:7: error X_BAD: bad thing',
  );
  assert.equal(formatDiagnostic({ code: 'X_BAD', message: 'm', severity: 'warning' }), 'warning X_BAD: m');
});

test('loadResult refuses the value when any diagnostic is an error', () => {
  assert.equal(loadResult(1, [{ code: 'W', message: '', severity: 'warning' }]).ok, true);
  assert.equal(loadResult(1, [{ code: 'E', message: '', severity: 'error' }]).ok, false);
});

test('LineIndex maps offsets to 1-based line and column', () => {
  const idx = new LineIndex('ab\ncd\n\nef');
  assert.deepEqual(idx.position(0), { line: 1, column: 1 });
  assert.deepEqual(idx.position(4), { line: 2, column: 2 });
  assert.deepEqual(idx.position(6), { line: 3, column: 1 });
  assert.deepEqual(idx.position(8), { line: 4, column: 2 });
});
