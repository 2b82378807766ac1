// Untrusted input runs through these detectors on every request argument: random bytes and
// long inputs must never throw or take long, and the reused shared state must give the same
// answer as a fresh one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectSqli } from './detect-sqli.ts';
import { detectXss } from './detect-xss.ts';
import { SqliState } from './sqli-state.ts';
import { makeRandom, mutatedInputs } from './tools/mutated-inputs.ts';

test('random and mutated inputs: no exception, shared state equals fresh state', () => {
  const inputs = mutatedInputs(["1' or '1'='1", '<img src=x onerror=alert(1)>', '$a$ x $a$'], 10000, 42);
  for (const s of inputs) {
    const shared = detectSqli(s);
    const fresh = new SqliState(s);
    const isSqli = fresh.isSqli();
    assert.equal(shared.isSqli, isSqli, JSON.stringify(s));
    assert.equal(shared.fingerprint, isSqli ? fresh.fingerprint : '', JSON.stringify(s));
    detectXss(s);
  }
});

test('long inputs stay fast (linear scans)', () => {
  const rnd = makeRandom(7);
  const big: string[] = [
    "'".repeat(200000),
    '/*'.repeat(100000),
    '$a$'.repeat(60000),
    '<a href='.repeat(30000),
    '<!--'.repeat(50000) + '-',
    '\\'.repeat(100000) + "'",
    Array.from({ length: 200000 }, () => String.fromCharCode(rnd(256))).join(''),
  ];
  for (const s of big) {
    const t0 = performance.now();
    detectSqli(s);
    detectXss(s);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `${JSON.stringify(s.slice(0, 12))}x${s.length}: ${ms.toFixed(0)} ms`);
  }
});

test('empty input and non-SQLi input give an empty fingerprint', () => {
  assert.deepEqual(detectSqli(''), { isSqli: false, fingerprint: '' });
  assert.deepEqual(detectSqli('hello world'), { isSqli: false, fingerprint: '' });
  assert.equal(detectXss(''), false);
});

test('classic payloads', () => {
  assert.deepEqual(detectSqli("1' OR '1'='1"), { isSqli: true, fingerprint: 's&sos' });
  assert.deepEqual(detectSqli('1 UNION SELECT 1,2,3--'), { isSqli: true, fingerprint: '1UE1c' });
  assert.deepEqual(detectSqli("admin'--"), { isSqli: true, fingerprint: 'sc' });
});

test('strings beyond latin1 are checked as their UTF-8 bytes', () => {
  const text = "名前' OR '1'='1";
  const bytes = Buffer.from(text, 'utf8').toString('latin1');
  assert.deepEqual(detectSqli(text), detectSqli(bytes));
  assert.equal(detectSqli(text).isSqli, true);
  assert.equal(detectXss('<script>名前</script>'), true);
  assert.equal(detectXss('名前 only text'), false);
});
