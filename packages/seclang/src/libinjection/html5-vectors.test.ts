// Runs libinjection's HTML5 tokenizer vectors (tests/test-html5-*.txt): every file must pass.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sharedDataDir } from './tools/shared-data-dir.ts';
import { formatHtml5Tokens, parseVectorFile } from './vector-file.ts';

const testsDir = join(sharedDataDir(), 'tests');
const files = readdirSync(testsDir)
  .filter((f) => f.startsWith('test-html5-') && f.endsWith('.txt'))
  .sort();

describe('libinjection test-html5-* vectors', () => {
  let passed = 0;

  test('vector files are present', () => {
    assert.ok(files.length >= 63, `expected 63 html5 vector files in ${testsDir}, found ${files.length}`);
  });

  for (const f of files) {
    test(f, () => {
      const v = parseVectorFile(readFileSync(join(testsDir, f), 'latin1'));
      assert.ok(v, `${f}: missing sections`);
      assert.equal(formatHtml5Tokens(v.input), v.expected, `${f}: ${v.test.trim()}\ninput: ${JSON.stringify(v.input)}`);
      passed++;
    });
  }

  test('pass count', (t) => {
    t.diagnostic(`test-html5-*: ${passed}/${files.length} vector files pass`);
    assert.equal(passed, files.length);
  });
});
