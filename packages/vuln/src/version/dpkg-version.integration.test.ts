import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { compareDpkgVersions } from './dpkg-version.ts';

const hasDpkg = spawnSync('dpkg', ['--version']).status === 0;

/** Deterministic generator of valid-but-awkward Debian versions (tildes, pluses, letters, epochs). */
function* versions(seed: number, count: number): Generator<string> {
  let s = seed;
  const rand = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const pick = (alphabet: string, len: number) => Array.from({ length: len }, () => alphabet[rand(alphabet.length)]).join('');
  for (let i = 0; i < count; i++) {
    const epoch = rand(4) === 0 ? `${rand(3)}:` : '';
    const upstream = `${rand(10)}${pick('0123456789..~+abzAZ', rand(6))}`;
    const revision = rand(2) ? `-${pick('0123456789.~+abuntu', 1 + rand(5))}` : '';
    yield `${epoch}${upstream}${revision}`;
  }
}

test('compareDpkgVersions agrees with dpkg --compare-versions on 400 generated pairs', { skip: !hasDpkg && 'dpkg not installed' }, () => {
  const list = [...versions(12345, 800)];
  const pairs: [string, string][] = [];
  for (let i = 0; i < list.length; i += 2) pairs.push([list[i]!, list[i + 1]!]);
  // Near-equal pairs exercise the tie-breaking rules more than random ones.
  for (let i = 0; i < 60; i++) pairs.push([list[i]!, `${list[i]!}~`], [list[i]!, `${list[i]!}+`], [list[i]!, `${list[i]!}0`]);
  const script = 'while read a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done';
  const r = spawnSync('sh', ['-c', script], { input: pairs.map(([a, b]) => `${a} ${b}`).join('\n') + '\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const oracle = r.stdout.trim().split('\n').map(Number);
  assert.equal(oracle.length, pairs.length);
  const disagreements = pairs
    .map(([a, b], i) => ({ a, b, dpkg: oracle[i], ours: compareDpkgVersions(a, b) }))
    .filter((x) => x.dpkg !== x.ours);
  assert.deepEqual(disagreements.slice(0, 10), []);
});
