// Differential test against the C libinjection 3.9.2 that ModSecurity v3 embeds and exports
// from libmodsecurity.so.3 (Debian libmodsecurity3), called through Python ctypes. Every
// input must give the same SQLi verdict, the same fingerprint and the same XSS verdict.
// Skipped when the library or python3 is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectSqli } from './detect-sqli.ts';
import { detectXss } from './detect-xss.ts';
import { mutatedInputs } from './tools/mutated-inputs.ts';
import { sharedDataDir } from './tools/shared-data-dir.ts';
import { urlDecode } from './url-decode.ts';

const here = dirname(fileURLToPath(import.meta.url));
const LIB_CANDIDATES = [
  process.env.LIBMODSECURITY ?? '',
  '/usr/lib/x86_64-linux-gnu/libmodsecurity.so.3',
  '/usr/lib/aarch64-linux-gnu/libmodsecurity.so.3',
  '/usr/lib/libmodsecurity.so.3',
];
const lib = LIB_CANDIDATES.find((p) => p !== '' && existsSync(p));
const python = spawnSync('python3', ['-c', 'import ctypes'], { encoding: 'utf8' }).status === 0;
const skip = !lib ? 'libmodsecurity.so.3 not installed' : !python ? 'python3 not available' : false;
const COUNT = Number(process.env.LIBINJECTION_DIFF_COUNT ?? 30000);

function samplePayloads(): string[] {
  const dir = join(sharedDataDir(), 'samples');
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) {
    for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
      const t = line.replace(/[ \t\r\n]+$/, '');
      if (t !== '' && !t.startsWith('#')) out.push(urlDecode(t));
    }
  }
  return out;
}

test('matches C libinjection (libmodsecurity3) on samples and mutated inputs', { skip }, (t) => {
  const samples = samplePayloads();
  const inputs = [...samples, ...mutatedInputs(samples, COUNT, 20261126)];
  const hex = inputs.map((s) => Buffer.from(s, 'latin1').toString('hex')).join('\n') + '\n';
  const r = spawnSync('python3', [join(here, 'tools/libinjection-oracle.py'), lib as string], {
    input: hex,
    maxBuffer: 1 << 28,
    encoding: 'latin1',
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.diagnostic(`oracle: C libinjection ${lines[0].replace('version ', '')} from ${lib}`);
  const diffs: string[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const mine = detectSqli(inputs[i]);
    const got = `${mine.isSqli ? 1 : 0} ${mine.isSqli ? mine.fingerprint : '-'} ${detectXss(inputs[i]) ? 1 : 0}`;
    if (got !== lines[i + 1]) diffs.push(`${JSON.stringify(inputs[i]).slice(0, 160)}: C ${lines[i + 1]}, TS ${got}`);
  }
  t.diagnostic(`${inputs.length - diffs.length}/${inputs.length} inputs agree with C`);
  assert.deepEqual(diffs.slice(0, 20), []);
});
