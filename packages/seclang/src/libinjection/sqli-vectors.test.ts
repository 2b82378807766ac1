// Runs libinjection's own SQLi test vectors (tokens, folding, detection): every file must pass.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { detectSqli, foldSqli, tokenizeSqli } from './detect-sqli.ts';
import { FLAG_QUOTE_NONE, FLAG_SQL_ANSI } from './sqli-state.ts';
import { sharedDataDir } from './tools/shared-data-dir.ts';
import { formatSqliTokens, parseVectorFile } from './vector-file.ts';

const testsDir = join(sharedDataDir(), 'tests');
const files = readdirSync(testsDir).filter((f) => f.endsWith('.txt')).sort();
const FLAGS = FLAG_QUOTE_NONE | FLAG_SQL_ANSI;

const kinds: { prefix: string; minFiles: number; run: (input: string) => string }[] = [
  { prefix: 'test-tokens-', minFiles: 249, run: (input) => formatSqliTokens(tokenizeSqli(input, FLAGS)) },
  { prefix: 'test-folding-', minFiles: 118, run: (input) => formatSqliTokens(foldSqli(input, FLAGS)) },
  { prefix: 'test-sqli-', minFiles: 50, run: (input) => detectSqli(input).fingerprint },
];

for (const kind of kinds) {
  describe(`libinjection ${kind.prefix}* vectors`, () => {
    const mine = files.filter((f) => f.startsWith(kind.prefix));
    let passed = 0;

    test('vector files are present', () => {
      assert.ok(mine.length >= kind.minFiles, `expected at least ${kind.minFiles} files in ${testsDir}, found ${mine.length}`);
    });

    for (const f of mine) {
      test(f, () => {
        const v = parseVectorFile(readFileSync(join(testsDir, f), 'latin1'));
        assert.ok(v, `${f}: missing --TEST--/--INPUT--/--EXPECTED-- section`);
        assert.equal(kind.run(v.input), v.expected, `${f}: ${v.test.trim()}\ninput: ${JSON.stringify(v.input)}`);
        passed++;
      });
    }

    test('pass count', (t) => {
      t.diagnostic(`${kind.prefix}*: ${passed}/${mine.length} vector files pass`);
      assert.equal(passed, mine.length);
    });
  });
}
