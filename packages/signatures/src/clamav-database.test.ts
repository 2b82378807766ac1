import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gzipSync } from 'fflate';
import { loadSignatures } from './load-signatures.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const digest = (a: string, d: Uint8Array) => createHash(a).update(d).digest('hex');
const db = (files: Record<string, string>) => Object.entries(files).map(([name, text]) => ({ name, bytes: enc(text) }));

test('a malformed line is reported with file, line and column, and refuses the whole set by default', () => {
  const r = loadSignatures({
    clamav: db({
      'a.ndb': 'Good.One:0:*:414243444546\nBad.Hex:0:*:4142zz\nBad.Offset:0:EOF+3:41424344\n',
      'b.hdb': '44d88612fea8a8f36de82e1278abb02f:68:Eicar.Md5\nnot-a-hash:12:X\n',
    }),
  });
  assert.equal(r.ok, false);
  const errs = r.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`);
  assert.deepEqual(errs, [
    'a.ndb:2:17 SIG_CLAMAV_HEX_INVALID',
    'a.ndb:3:14 SIG_CLAMAV_OFFSET_INVALID',
    'b.hdb:2:1 SIG_CLAMAV_HASH_INVALID',
  ]);
});

test('skipInvalid loads the valid signatures and keeps the problems as warnings', () => {
  const r = loadSignatures({ clamav: db({ 'a.ndb': 'Good.One:0:*:414243444546\nBad.Hex:0:*:4142zz\n' }) }, { skipInvalid: true });
  assert.ok(r.ok);
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0]!.severity, 'warning');
  assert.deepEqual(r.value.scan(enc('xxABCDEFxx')).detections.map((d) => d.name), ['Good.One']);
});

test('hash signatures are looked up by size first, so other files are never hashed', () => {
  const file = enc('some file content');
  const r = loadSignatures({
    clamav: db({
      'x.hdb': `${digest('md5', file)}:${file.length}:Md5.Hit\n`,
      'x.hsb': `${digest('sha256', file)}:*:Sha.AnySize:73\n${digest('sha1', file)}:${file.length}:Sha1.Hit\n`,
    }),
  });
  assert.ok(r.ok);
  let calls = 0;
  const digestFn = (a: 'md5' | 'sha1' | 'sha256', d: Uint8Array) => {
    calls++;
    return digest(a, d);
  };
  const names = r.value.scan(file, { digest: digestFn }).detections.map((d) => d.name).sort();
  assert.deepEqual(names, ['Md5.Hit', 'Sha.AnySize', 'Sha1.Hit']);
  // A file of another size needs only the any-size SHA256, never MD5 or SHA1.
  calls = 0;
  const other = enc('another content, another size');
  assert.deepEqual(r.value.scan(other, { digest: digestFn }).detections, []);
  assert.equal(calls, 1);
});

test('allow-lists (.fp/.sfp) clear a file whatever else matches; .ign2 drops a name', () => {
  const file = enc('xx MARKER-MARKER xx');
  const r = loadSignatures({
    clamav: db({
      'a.ndb': 'Body.Marker:0:*:4d41524b45522d4d41524b4552\nBody.Other:0:*:78782034\n',
      'a.fp': `${digest('md5', file)}:${file.length}:Allowed\n`,
    }),
  });
  assert.ok(r.ok);
  const res = r.value.scan(file, { digest: digest as never });
  assert.equal(res.allowListed, true);
  assert.deepEqual(res.detections, []);
  const r2 = loadSignatures({ clamav: db({ 'a.ndb': 'Body.Marker:0:*:4d41524b45522d4d41524b4552\n', 'a.ign2': 'Body.Marker\n' }) });
  assert.ok(r2.ok);
  assert.deepEqual(r2.value.scan(file).detections, []);
});

test('body signature wildcards, offsets and alternatives', () => {
  const data = enc('0123456789ABCDEFGHIJ-the-end');
  const sigs = [
    'W.Any:0:*:41??43', // A?C
    'W.Nibble:0:*:4?4243', // [4x]BC
    'W.Range:0:*:41{1-3}45', // A..E
    'W.Star:0:*:30*2d7468', // 0 ... -th
    'W.Alt:0:*:44(45|58)46', // D(E|X)F
    'W.Not:0:*:44!(58|59)46', // D not X/Y F
    'W.Abs:0:10:41424344',
    'W.AbsShift:0:8,4:41424344',
    'W.Eof:0:EOF-8:2d746865',
    'Miss.Abs:0:11:41424344',
    'Miss.Not:0:*:44!(45|58)46',
    'Miss.Range:0:*:41{4-6}45',
  ];
  const r = loadSignatures({ clamav: db({ 'w.ndb': `${sigs.join('\n')}\n` }) });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const names = r.value.scan(data).detections.map((d) => d.name).sort();
  assert.deepEqual(names, ['W.Abs', 'W.AbsShift', 'W.Alt', 'W.Any', 'W.Eof', 'W.Nibble', 'W.Not', 'W.Range', 'W.Star']);
});

test('logical signatures: counts, modifiers and file size', () => {
  const data = enc('foo bar foo BAR foo w\0i\0d\0e\0 zz');
  const lines = [
    'L.And;Engine:51-255,Target:0;0&1;666f6f;626172',
    'L.Count;Engine:51-255,Target:0;0=3;666f6f',
    'L.CountMiss;Engine:51-255,Target:0;0>3;666f6f',
    'L.Nocase;Engine:51-255,Target:0;0=2;626172::i',
    'L.Wide;Engine:51-255,Target:0;0;77696465::w',
    'L.Size;Engine:51-255,Target:0,FileSize:1-10;0;666f6f',
    'L.Distinct;Engine:51-255,Target:0;(0|1|2)>3,2;666f6f;626172;7a7a7a7a7a',
  ];
  const r = loadSignatures({ clamav: db({ 'l.ldb': `${lines.join('\n')}\n` }) });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.deepEqual(r.value.scan(data).detections.map((d) => d.name).sort(), ['L.And', 'L.Count', 'L.Distinct', 'L.Nocase', 'L.Wide']);
});

test('a .cvd container (header + gzip tar) loads like the files inside it', () => {
  const ndb = enc('Cvd.Sig:0:*:414243444546\n');
  const header = new Uint8Array(512);
  header.set(enc('ClamAV-VDB:26 Nov 2026 00-00 +0000:1:1:90:x:x:palisade:0'));
  const tarHeader = new Uint8Array(512);
  tarHeader.set(enc('test.ndb'));
  tarHeader.set(enc(`${ndb.length.toString(8).padStart(11, '0')}\0`), 124);
  tarHeader[156] = 0x30;
  const tar = new Uint8Array(512 + 512 + 1024);
  tar.set(tarHeader);
  tar.set(ndb, 512);
  const body = gzipSync(tar);
  const cvd = new Uint8Array(512 + body.length);
  cvd.set(header);
  cvd.set(body, 512);
  const r = loadSignatures({ clamav: [{ name: 'x.cvd', bytes: cvd }] });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.deepEqual(r.value.scan(enc('..ABCDEF..')).detections.map((d) => d.name), ['Cvd.Sig']);
  const bad = loadSignatures({ clamav: [{ name: 'y.cvd', bytes: enc('not a cvd') }] });
  assert.equal(bad.ok, false);
  assert.equal(bad.diagnostics[0]!.code, 'SIG_CVD_INVALID');
});

test('unsupported ClamAV features are refused per signature with a stable code', () => {
  const r = loadSignatures({
    clamav: db({
      'u.ldb': 'U.Pcre;Engine:81-255,Target:0;0&1;41424344;0/abc/i\nU.Container;Engine:81-255,Target:0,Container:CL_TYPE_ZIP;0;41424344\n',
      'u.ndb': 'U.Boundary:0:*:4142(B)4344\n',
      'u.cdb': 'x\n',
    }),
  });
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['SIG_CLAMAV_SUBSIG_INVALID', 'SIG_CLAMAV_LDB_UNSUPPORTED', 'SIG_CLAMAV_HEX_INVALID', 'SIG_CLAMAV_FORMAT_UNSUPPORTED'],
  );
});
