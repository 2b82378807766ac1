import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSignatures } from '@palisade/signatures';
import { buildDifferentialCorpus } from './differential-corpus.ts';

// Differential test against `yara -s`: the same rules over the same files must match the same
// rules, and every non-private string must match at the same offsets.
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const RULES = join(repoRoot, 'packages/signatures/fixtures/yara-differential.yar');
const TESTFILES = '/usr/share/clamav-testfiles';
const hasYara = spawnSync('yara', ['--version']).status === 0;
const skip = hasYara ? false : 'yara is not installed (Debian package yara)';

let work: string;
let corpusDir: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'palisade-yaradiff-'));
  corpusDir = buildDifferentialCorpus(work).dir;
});
after(() => rmSync(work, { recursive: true, force: true }));

type Result = Map<string, Map<string, string[]>>; // path -> rule -> sorted "id@offset"

function runYara(dir: string): Result {
  const r = spawnSync('yara', ['-s', '-w', '-r', RULES, dir], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const out: Result = new Map();
  let cur: string[] | undefined;
  for (const line of r.stdout.split('\n')) {
    const s = /^0x([0-9a-f]+):(\$\w*): /.exec(line);
    if (s && cur) {
      cur.push(`${s[2]}@${parseInt(s[1]!, 16)}`);
      continue;
    }
    const m = /^(\w+) (\/.*)$/.exec(line);
    if (!m) continue;
    let rules = out.get(m[2]!);
    if (!rules) out.set(m[2]!, (rules = new Map()));
    cur = [];
    rules.set(m[1]!, cur);
  }
  for (const rules of out.values()) for (const [k, v] of rules) rules.set(k, firstMatches(v));
  return out;
}

/** Per string, the first 100 offsets (Palisade reports at most 100 per string). */
function firstMatches(list: string[]): string[] {
  const byId = new Map<string, number[]>();
  for (const x of new Set(list)) {
    const [id, off] = x.split('@') as [string, string];
    let l = byId.get(id);
    if (!l) byId.set(id, (l = []));
    l.push(Number(off));
  }
  return [...byId]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([id, offs]) => offs.sort((a, b) => a - b).slice(0, 100).map((o) => `${id}@${o}`));
}

test('same rules and string offsets as yara -s on clamav-testfiles and the generated corpus', { skip }, () => {
  const loaded = loadSignatures({ yara: [{ name: RULES, text: readFileSync(RULES, 'utf8') }] });
  assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
  const dirs = [corpusDir, ...(existsSync(TESTFILES) ? [TESTFILES] : [])];
  const problems: string[] = [];
  let compared = 0;
  let matchedRules = 0;
  for (const dir of dirs) {
    const theirs = runYara(dir);
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const res = loaded.value.scan(new Uint8Array(readFileSync(path)));
      const ours = new Map(
        res.detections.map((d) => [d.name, firstMatches((d.strings ?? []).map((s) => `${s.id}@${s.offset}`))]),
      );
      const t = theirs.get(path) ?? new Map<string, string[]>();
      compared++;
      matchedRules += t.size;
      const names = [...new Set([...ours.keys(), ...t.keys()])].sort();
      for (const n of names) {
        const a = ours.get(n);
        const b = t.get(n);
        if (!a || !b) problems.push(`${path}: rule ${n} palisade=${a ? 'match' : '-'} yara=${b ? 'match' : '-'}`);
        else if (a.join(' ') !== b.join(' ')) problems.push(`${path}: rule ${n} strings differ\n  palisade: ${a.slice(0, 8).join(' ')}\n  yara:     ${b.slice(0, 8).join(' ')}`);
      }
    }
  }
  assert.ok(matchedRules > 100, `yara matched only ${matchedRules} rule/file pairs: the test would prove little`);
  assert.equal(problems.length, 0, `${problems.length} differences over ${compared} files:\n${problems.slice(0, 20).join('\n')}`);
});
