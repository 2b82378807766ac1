import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadSignatures, type SignatureEngine } from '@palisade/signatures';
import { buildDifferentialCorpus, type DifferentialCorpus } from './differential-corpus.ts';
import { scanBytes } from './file-scanner.ts';
import { loadSignatureSources } from './signature-sources.ts';

// Differential test against clamscan: the same database and files must give exactly the same
// detections per file. Two modes: raw (clamscan with every parser off, on the Debian
// clamav-testfiles and the generated corpus) and default (clamscan's defaults, generated corpus
// with archives, executables and text files).
const TESTFILES = '/usr/share/clamav-testfiles';
const hasClamscan = spawnSync('clamscan', ['--version']).status === 0;
const skip = hasClamscan ? false : 'clamscan is not installed (Debian package clamav)';
const RAW_FLAGS = [
  '--scan-archive=no',
  '--scan-pe=no',
  '--scan-elf=no',
  '--scan-ole2=no',
  '--scan-pdf=no',
  '--scan-html=no',
  '--scan-mail=no',
  '--scan-swf=no',
  '--scan-xmldocs=no',
  '--scan-hwp3=no',
];

let work: string;
let corpus: DifferentialCorpus;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'palisade-sigdiff-'));
  corpus = buildDifferentialCorpus(work);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** path -> detection names, from `clamscan --allmatch`; ClamAV's own heuristics are not signatures. */
function clamscan(db: string, targets: string[], flags: string[]): Map<string, string[]> {
  const r = spawnSync('clamscan', ['--allmatch', '--no-summary', '-r', '-d', db, ...flags, ...targets], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.ok(r.status === 0 || r.status === 1, `clamscan failed (${r.status}): ${r.stderr}`);
  const out = new Map<string, Set<string>>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(.*): (\S+) FOUND$/.exec(line);
    if (!m) continue;
    const name = m[2]!.replace(/\.UNOFFICIAL$/, '');
    if (name.startsWith('Heuristics.')) continue;
    let s = out.get(m[1]!);
    if (!s) out.set(m[1]!, (s = new Set()));
    s.add(name);
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

async function engineFor(db: string): Promise<SignatureEngine> {
  const loaded = loadSignatures(await loadSignatureSources([db], []));
  assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics.slice(0, 5)));
  return loaded.value;
}

function palisade(engine: SignatureEngine, paths: string[], raw: boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of paths) {
    const r = scanBytes(engine, readFileSync(p), p, { archives: !raw, normalizeText: !raw });
    const names = [...new Set(r.detections.map((d) => d.name))].sort();
    if (names.length > 0) out.set(p, names);
  }
  return out;
}

function diff(ours: Map<string, string[]>, theirs: Map<string, string[]>, paths: string[]): string[] {
  const problems: string[] = [];
  for (const p of paths) {
    const a = ours.get(p) ?? [];
    const b = theirs.get(p) ?? [];
    if (a.join(',') !== b.join(',')) problems.push(`${p}\n  palisade: ${a.join(', ') || '-'}\n  clamscan: ${b.join(', ') || '-'}`);
  }
  return problems;
}

const listFiles = (d: string) => readdirSync(d).sort().map((n) => join(d, n));

test('raw mode: same detections as clamscan (parsers off) on clamav-testfiles and the generated corpus', { skip }, async () => {
  const paths = [...(existsSync(TESTFILES) ? listFiles(TESTFILES) : []), ...listFiles(corpus.dir)];
  const theirs = clamscan(corpus.rawDbDir, [...(existsSync(TESTFILES) ? [TESTFILES] : []), corpus.dir], RAW_FLAGS);
  const ours = palisade(await engineFor(corpus.rawDbDir), paths, true);
  // The corpus plants signatures: a run where nothing matches would prove nothing.
  assert.ok(theirs.size >= 30, `clamscan found only ${theirs.size} files`);
  const d = diff(ours, theirs, paths);
  assert.equal(d.length, 0, `${d.length} of ${paths.length} files differ:\n${d.slice(0, 12).join('\n')}`);
});

test('default mode: same detections as clamscan (archives, executables, text normalization) on the generated corpus', { skip }, async () => {
  const paths = listFiles(corpus.dir);
  const theirs = clamscan(corpus.dbDir, [corpus.dir], []);
  const ours = palisade(await engineFor(corpus.dbDir), paths, false);
  assert.ok(theirs.size >= 30, `clamscan found only ${theirs.size} files`);
  const d = diff(ours, theirs, paths);
  assert.equal(d.length, 0, `${d.length} of ${paths.length} files differ:\n${d.slice(0, 12).join('\n')}`);
});
