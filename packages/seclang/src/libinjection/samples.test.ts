// Runs upstream's sample corpora (samples/*.txt) with upstream's pass criteria from
// src/test-samples-*.sh: at most 18 SQLi lines missed, at most 21 false positives on
// false_positives.txt, at most 18 XSS lines missed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectSqli } from './detect-sqli.ts';
import { detectXss } from './detect-xss.ts';
import { sharedDataDir } from './tools/shared-data-dir.ts';
import { urlDecode } from './url-decode.ts';

const samplesDir = join(sharedDataDir(), 'samples');
const names = readdirSync(samplesDir).sort();

/** Like upstream's reader: right-trim, skip blank and '#' lines, URL-decode. */
function payloads(file: string): string[] {
  return readFileSync(join(samplesDir, file), 'latin1')
    .split('\n')
    .map((l) => l.replace(/[ \t\r\n]+$/, ''))
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map(urlDecode);
}

function sweep(files: string[], expectDetected: boolean, detect: (s: string) => boolean) {
  let total = 0;
  const wrong: string[] = [];
  for (const f of files) {
    for (const p of payloads(f)) {
      total++;
      if (detect(p) !== expectDetected) wrong.push(`${f}: ${JSON.stringify(p).slice(0, 120)}`);
    }
  }
  return { total, wrong };
}

test('sqli-*.txt samples: at most 18 undetected (upstream criterion)', (t) => {
  const files = names.filter((n) => n.startsWith('sqli-'));
  assert.ok(files.length >= 31, `expected 31 sqli sample files, found ${files.length}`);
  const { total, wrong } = sweep(files, true, (s) => detectSqli(s).isSqli);
  t.diagnostic(`sqli samples: ${total - wrong.length}/${total} detected, ${wrong.length} missed`);
  assert.ok(total > 17000, `expected about 17,149 payloads, got ${total}`);
  assert.ok(wrong.length <= 18, `missed ${wrong.length}:\n${wrong.join('\n')}`);
});

test('false_positives.txt: at most 21 flagged as SQLi (upstream criterion)', (t) => {
  const { total, wrong } = sweep(['false_positives.txt'], false, (s) => detectSqli(s).isSqli);
  t.diagnostic(`false positives: ${wrong.length}/${total} flagged`);
  assert.ok(total > 400, `expected 421 payloads, got ${total}`);
  assert.ok(wrong.length <= 21, `flagged ${wrong.length}:\n${wrong.join('\n')}`);
});

test('xss-*.txt samples: at most 18 undetected (upstream criterion)', (t) => {
  const files = names.filter((n) => n.startsWith('xss'));
  assert.ok(files.length >= 11, `expected 11 xss sample files, found ${files.length}`);
  const { total, wrong } = sweep(files, true, detectXss);
  t.diagnostic(`xss samples: ${total - wrong.length}/${total} detected, ${wrong.length} missed`);
  assert.ok(total > 1600, `expected about 1,645 payloads, got ${total}`);
  assert.ok(wrong.length <= 18, `missed ${wrong.length}:\n${wrong.join('\n')}`);
});
