import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSignatures } from '@palisade/signatures';
import { gzipSync, zipSync } from 'fflate';
import { DEFAULT_ARCHIVE_LIMITS, UnpackBudget, unpackArchive } from './archive-reader.ts';
import { makeTar } from './differential-corpus.ts';
import { scanBytes } from './file-scanner.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const engine = () => {
  const r = loadSignatures({ clamav: [{ name: 't.ndb', bytes: enc('Test.Marker:0:*:504c414e5445442d4d41524b4552\n') }] });
  assert.ok(r.ok);
  return r.value;
};
const planted = enc('....PLANTED-MARKER....');

test('members of zip, tar, gzip and tar.gz are scanned and named', () => {
  const e = engine();
  const cases: [string, Uint8Array, string[]][] = [
    ['a.zip', zipSync({ 'dir/x.bin': planted }), ['dir/x.bin:Test.Marker']],
    // tar does not compress: the marker is also in the archive's own bytes.
    ['a.tar', makeTar([['y.bin', planted]]), [':Test.Marker', 'y.bin:Test.Marker']],
    ['a.gz', gzipSync(planted), ['(gzip content):Test.Marker']],
    ['a.tgz', gzipSync(makeTar([['z.bin', planted]])), ['(gzip content):Test.Marker', '(gzip content)!z.bin:Test.Marker']],
  ];
  for (const [name, data, want] of cases) {
    const r = scanBytes(e, data, name);
    assert.deepEqual(r.detections.map((d) => `${d.member ?? ''}:${d.name}`), want, name);
    assert.deepEqual(r.problems, []);
  }
});

test('a zip bomb is stopped while inflating and reported, not unpacked', () => {
  const zeros = new Uint8Array(8 * 1024 * 1024);
  const bomb = zipSync({ 'zeros.bin': [zeros, { level: 9 }] });
  assert.ok(bomb.length < 100_000);
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxRatio: 100 };
  const r = scanBytes(engine(), bomb, 'bomb.zip', { limits });
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.code, 'SIG_ARCHIVE_BOMB');
  // Size limits hold even when the ratio looks harmless.
  const small = { ...DEFAULT_ARCHIVE_LIMITS, maxMemberSize: 1024 * 1024 };
  const r2 = scanBytes(engine(), bomb, 'bomb.zip', { limits: small });
  assert.equal(r2.problems[0]!.code, 'SIG_ARCHIVE_TOO_LARGE');
});

test('deep nesting stops at the depth limit and is reported', () => {
  let data: Uint8Array = planted;
  for (let i = 0; i < 25; i++) data = zipSync({ [`level${i}.zip`]: data });
  const r = scanBytes(engine(), data, 'deep.zip');
  assert.deepEqual(r.detections, []);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.code, 'SIG_ARCHIVE_TOO_DEEP');
  const shallow = scanBytes(engine(), data, 'deep.zip', { limits: { ...DEFAULT_ARCHIVE_LIMITS, maxDepth: 30 } });
  assert.equal(shallow.detections.length, 1);
});

test('the total unpack budget spans all levels of one file', () => {
  const member = new Uint8Array(600_000).fill(7);
  const zip = zipSync({ a: member, b: member, c: member });
  const budget = new UnpackBudget({ ...DEFAULT_ARCHIVE_LIMITS, maxTotalSize: 1_000_000 });
  const { members, problems } = unpackArchive(zip, 'zip', budget);
  assert.equal(members.length, 1);
  assert.deepEqual(problems.map((p) => p.code), ['SIG_ARCHIVE_TOO_LARGE', 'SIG_ARCHIVE_TOO_LARGE']);
});

test('corrupt and encrypted members are reported, the rest still scanned', () => {
  const zip = zipSync({ 'ok.bin': planted, 'other.bin': enc('x'.repeat(100)) });
  const corrupt = zip.slice();
  // Damage the second member's deflate stream by flipping bytes after its local header.
  const second = corrupt.indexOf(0x50, 40);
  for (let i = second + 40; i < second + 50 && i < corrupt.length; i++) corrupt[i] ^= 0xff;
  const r = scanBytes(engine(), corrupt, 'c.zip');
  assert.ok(r.detections.length === 1 || r.problems.length > 0);
  const enc1 = zip.slice();
  enc1[6] |= 1; // general purpose flag of the first local header
  const cd = enc1.lastIndexOf(0x02, enc1.length - 22) - 3; // first central directory entry
  const dv = new DataView(enc1.buffer);
  for (let p = 0; p + 4 <= enc1.length; p++) {
    if (dv.getUint32(p, true) === 0x02014b50) {
      enc1[p + 8] |= 1;
      break;
    }
  }
  void cd;
  const r2 = scanBytes(engine(), enc1, 'e.zip');
  assert.ok(r2.problems.some((p) => p.code === 'SIG_ARCHIVE_ENCRYPTED'));
});

test('containers we do not unpack are named, so a clean result is not mistaken for a full one', () => {
  const r = scanBytes(engine(), new Uint8Array([...enc('BZh91AY&SY'), 0, 1, 2, 3]), 'x.bz2');
  assert.deepEqual(r.notUnpacked, [{ format: 'bzip2' }]);
});
