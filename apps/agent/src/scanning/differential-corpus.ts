import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExecutable } from '@palisade/signatures';
import { gzipSync, zipSync } from 'fflate';

/**
 * Builds the differential corpus and a ClamAV database of every supported signature type from
 * a seed: files with signatures planted at known places, near-misses that must not match, and
 * signatures derived from real executables (EP and section offsets, section hashes). Both
 * Palisade and clamscan then scan the same files with the same database.
 */
export interface DifferentialCorpus {
  dir: string;
  /** Database with every signature type. */
  dbDir: string;
  /** Database without signatures that need executable parsing (for clamscan with parsers off). */
  rawDbDir: string;
}

export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const digest = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest('hex');

export function buildDifferentialCorpus(root: string, seed = 8): DifferentialCorpus {
  const rand = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(0, 255));
  /** Random bytes that are unmistakably binary (a NUL and control bytes up front). */
  const blob = (n: number) => {
    const b = bytes(n);
    b.set([0x00, 0x01, 0x02, 0x00, 0x03], 0);
    return b;
  };
  const dir = join(root, 'corpus');
  const dbDir = join(root, 'db');
  const rawDbDir = join(root, 'db-raw');
  for (const d of [dir, dbDir, rawDbDir]) mkdirSync(d, { recursive: true });
  const files = new Map<string, Uint8Array>();
  const put = (name: string, data: Uint8Array) => {
    files.set(name, data);
    writeFileSync(join(dir, name), data);
  };
  const ndb: string[] = [];
  const ndbStructural: string[] = [];
  const ldb: string[] = [];
  const hdb: string[] = [];
  const hsb: string[] = [];
  const mdb: string[] = [];
  const msb: string[] = [];
  const fp: string[] = [];
  const sfp: string[] = [];
  let sigNo = 0;
  const name = (what: string) => `Palisade.Diff.${what}-${++sigNo}`;

  // EICAR, and EICAR with a trailing newline (text file, type 7 normalization applies).
  put('eicar.com', new TextEncoder().encode(EICAR));
  put('eicar-nl.txt', new TextEncoder().encode(`${EICAR}\r\n`));
  ndb.push(`${name('Eicar')}:0:0:${hex(new TextEncoder().encode(EICAR))}`);
  ndb.push(`${name('EicarText')}:7:*:${hex(new TextEncoder().encode(EICAR.toLowerCase().slice(0, 40)))}`);

  // Body signatures with every wildcard form, planted in random blobs at random offsets.
  const forms: ((lit: () => string) => { sig: string; plant: () => Uint8Array })[] = [
    (lit) => {
      const a = lit();
      return { sig: a, plant: () => Buffer.from(a, 'hex') };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      return { sig: `${a}????${b}`, plant: () => Buffer.concat([Buffer.from(a, 'hex'), bytes(2), Buffer.from(b, 'hex')]) };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      const hi = int(0, 15);
      return {
        sig: `${a}${hi.toString(16)}?${b}`,
        plant: () => Buffer.concat([Buffer.from(a, 'hex'), Uint8Array.of((hi << 4) | int(0, 15)), Buffer.from(b, 'hex')]),
      };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      const lo = int(0, 15);
      return {
        sig: `${a}?${lo.toString(16)}${b}`,
        plant: () => Buffer.concat([Buffer.from(a, 'hex'), Uint8Array.of((int(0, 15) << 4) | lo), Buffer.from(b, 'hex')]),
      };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      return { sig: `${a}{2-9}${b}`, plant: () => Buffer.concat([Buffer.from(a, 'hex'), bytes(int(2, 9)), Buffer.from(b, 'hex')]) };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      return { sig: `${a}{4}${b}`, plant: () => Buffer.concat([Buffer.from(a, 'hex'), bytes(4), Buffer.from(b, 'hex')]) };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      return { sig: `${a}*${b}`, plant: () => Buffer.concat([Buffer.from(a, 'hex'), bytes(int(0, 300)), Buffer.from(b, 'hex')]) };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      return { sig: `${a}{-6}${b}`, plant: () => Buffer.concat([Buffer.from(a, 'hex'), bytes(int(0, 6)), Buffer.from(b, 'hex')]) };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      return { sig: `${a}{10-}${b}`, plant: () => Buffer.concat([Buffer.from(a, 'hex'), bytes(int(10, 40)), Buffer.from(b, 'hex')]) };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      const alts = [hex(bytes(2)), hex(bytes(2)), hex(bytes(2))];
      return {
        sig: `${a}(${alts.join('|')})${b}`,
        plant: () => Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(alts[int(0, 2)]!, 'hex'), Buffer.from(b, 'hex')]),
      };
    },
    (lit) => {
      const a = lit();
      const b = lit();
      const x = int(0, 254);
      return {
        sig: `${a}!(${x.toString(16).padStart(2, '0')}|${(x + 1).toString(16).padStart(2, '0')})${b}`,
        // x+2..x+202 (mod 256) never equals x or x+1.
        plant: () => Buffer.concat([Buffer.from(a, 'hex'), Uint8Array.of((x + 2 + int(0, 200)) % 256), Buffer.from(b, 'hex')]),
      };
    },
    (lit) => {
      const a = lit();
      const b = hex(bytes(1));
      return { sig: `${a}[1-4]${b}`, plant: () => Buffer.concat([Buffer.from(a, 'hex'), bytes(int(1, 4)), Buffer.from(b, 'hex')]) };
    },
  ];
  const lit = () => hex(bytes(int(4, 10)));
  for (let f = 0; f < 24; f++) {
    const size = int(2_000, 60_000);
    const body = blob(size);
    const form = forms[f % forms.length]!(lit);
    const inst = form.plant();
    const mode = f % 4;
    let at = int(100, size - inst.length - 100);
    let offset = '*';
    if (mode === 1) offset = `${at}`;
    else if (mode === 2) {
      offset = `${at - 3},8`;
    } else if (mode === 3) {
      offset = `EOF-${size - at}`;
    }
    body.set(inst, at);
    ndb.push(`${name('Body')}:0:${offset}:${form.sig}`);
    // A near miss: the same signature at a wrong fixed offset, and a variant with one byte changed.
    if (mode === 1) ndb.push(`${name('WrongOffset')}:0:${at + 1}:${form.sig}`);
    const flipped = form.sig.replace(/^(..)/, (m) => ((parseInt(m, 16) ^ 0x5a) & 0xff).toString(16).padStart(2, '0'));
    ndb.push(`${name('Miss')}:0:*:${flipped}`);
    // Occasionally plant it twice to exercise counting.
    if (f % 5 === 0) {
      at = int(10, 90);
      body.set(form.plant(), at);
    }
    put(`blob-${f}.bin`, body);
  }

  // Logical signatures: planted subsignatures with counts, case, wide and fullword modifiers.
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  for (let f = 0; f < 8; f++) {
    const w1 = `${words[f]!}${int(100, 999)}`;
    const w2 = `${words[(f + 3) % words.length]!}${int(100, 999)}`;
    const w3 = `${words[(f + 5) % words.length]!}${int(100, 999)}`;
    const size = int(3_000, 20_000);
    const body = blob(size);
    const plant = (s: Uint8Array) => body.set(s, int(50, size - s.length - 50));
    const enc = (s: string) => new TextEncoder().encode(s);
    const wide = (s: string) => Uint8Array.from([...enc(s)].flatMap((c) => [c, 0]));
    const n1 = f % 3 === 0 ? 3 : 1;
    for (let k = 0; k < n1; k++) plant(enc(` ${w1} `));
    plant(enc(` ${w2.toUpperCase()} `));
    if (f % 2 === 0) plant(wide(w3));
    const s0 = hex(enc(w1));
    const s1 = hex(enc(w2));
    const s2 = hex(enc(w3));
    ldb.push(`${name('Ldb.And')};Engine:51-255,Target:0;0&1;${s0};${s1}::i`);
    ldb.push(`${name('Ldb.Or')};Engine:51-255,Target:0;0|1;${s0};${hex(bytes(8))}`);
    ldb.push(`${name('Ldb.Gt')};Engine:51-255,Target:0;0>2;${s0}`);
    ldb.push(`${name('Ldb.Eq')};Engine:51-255,Target:0;0=1;${s0}`);
    ldb.push(`${name('Ldb.Lt')};Engine:51-255,Target:0;0<2;${s0}`);
    ldb.push(`${name('Ldb.Distinct')};Engine:51-255,Target:0;(0|1|2)>1,2;${s0};${s1}::i;${s2}::w`);
    ldb.push(`${name('Ldb.Wide')};Engine:51-255,Target:0;0;${s2}::w`);
    ldb.push(`${name('Ldb.WideAscii')};Engine:51-255,Target:0;0;${s2}::wa`);
    ldb.push(`${name('Ldb.Fullword')};Engine:51-255,Target:0;0;${s0}::f`);
    ldb.push(`${name('Ldb.FullwordPart')};Engine:51-255,Target:0;0;${s0.slice(0, -2)}::f`);
    ldb.push(`${name('Ldb.Size')};Engine:51-255,Target:0,FileSize:${size}-${size + 10};0;${s0}`);
    ldb.push(`${name('Ldb.SizeMiss')};Engine:51-255,Target:0,FileSize:0-${size - 1};0;${s0}`);
    ldb.push(`${name('Ldb.Nested')};Engine:51-255,Target:0;((0|1)&2)|(0&3);${s0};${hex(bytes(6))};${s2}::w;${s1}::i`);
    put(`words-${f}.bin`, body);
  }

  // Text files: normalized scanning (type 7, and type 0 on the normalized form).
  const text = 'The Quick   Brown\tFox\r\nJumps   OVER the lazy dog; Palisade Text Marker 42.\n';
  put('text-1.txt', new TextEncoder().encode(text.repeat(3)));
  put('text-2.txt', new TextEncoder().encode(`header\n${text.toUpperCase()}`));
  ndb.push(`${name('Text7')}:7:*:${hex(new TextEncoder().encode('fox jumps over'))}`);
  ndb.push(`${name('Text0Norm')}:0:*:${hex(new TextEncoder().encode('palisade text marker'))}`);
  ndb.push(`${name('Text0Raw')}:0:*:${hex(new TextEncoder().encode('Quick   Brown'))}`);
  ndb.push(`${name('Text7Upper')}:7:*:${hex(new TextEncoder().encode('PALISADE TEXT'))}`);
  ldb.push(`${name('Ldb.Text7')};Engine:51-255,Target:7;0&1;${hex(new TextEncoder().encode('the quick brown'))};${hex(new TextEncoder().encode('lazy dog'))}`);

  // Hash signatures: MD5 (.hdb), SHA1/SHA256 (.hsb), any size, and allow-lists.
  for (let f = 0; f < 6; f++) {
    const b = blob(int(500, 5000));
    put(`hashed-${f}.bin`, b);
    if (f < 2) hdb.push(`${digest('md5', b)}:${b.length}:${name('Md5')}`);
    else if (f < 4) hsb.push(`${digest(f === 2 ? 'sha1' : 'sha256', b)}:${b.length}:${name('Sha')}`);
    else if (f === 4) hsb.push(`${digest('sha256', b)}:*:${name('ShaAnySize')}:73`);
    else hdb.push(`${digest('md5', b)}:${b.length + 1}:${name('Md5WrongSize')}`);
  }
  // An allow-listed file that a body signature would otherwise flag.
  const allowed = blob(3000);
  const marker = bytes(12);
  allowed.set(marker, 1000);
  put('allowed.bin', allowed);
  const allowed2 = blob(3000);
  allowed2.set(marker, 2000);
  put('allowed2.bin', allowed2);
  ndb.push(`${name('AllowedMarker')}:0:*:${hex(marker)}`);
  fp.push(`${digest('md5', allowed)}:${allowed.length}:Palisade.Allow.Md5`);
  sfp.push(`${digest('sha256', allowed2)}:${allowed2.length}:Palisade.Allow.Sha256`);

  // Real executables: EP/section offsets, target types, section hashes.
  const testfiles = '/usr/share/clamav-testfiles';
  const exes: [string, 'pe' | 'elf'][] = [];
  if (existsSync(join(testfiles, 'clam.exe'))) exes.push([join(testfiles, 'clam.exe'), 'pe']);
  if (existsSync('/usr/bin/true')) exes.push(['/usr/bin/true', 'elf']);
  for (const [src, kind] of exes) {
    const dst = `exe-${kind}.${kind === 'pe' ? 'exe' : 'elf'}`;
    copyFileSync(src, join(dir, dst));
    const data = new Uint8Array(readFileSync(join(dir, dst)));
    files.set(dst, data);
    const info = parseExecutable(data, kind);
    if (!info) continue;
    const target = kind === 'pe' ? 1 : 6;
    const other = kind === 'pe' ? 6 : 1;
    const at = (o: number, n = 8) => hex(data.subarray(o, o + n));
    if (info.entryPoint !== undefined) {
      ndbStructural.push(`${name(`${kind}.EP`)}:${target}:EP+0:${at(info.entryPoint)}`);
      ndbStructural.push(`${name(`${kind}.EPshift`)}:${target}:EP+0,4:${at(info.entryPoint + 2)}`);
      ndbStructural.push(`${name(`${kind}.EPoff`)}:${target}:EP+1:${at(info.entryPoint)}`);
    }
    const s0 = info.sections[0];
    if (s0 && s0.size >= 16) {
      ndbStructural.push(`${name(`${kind}.S0`)}:${target}:S0+4:${at(s0.offset + 4)}`);
      ndbStructural.push(`${name(`${kind}.SE0`)}:${target}:SE0:${at(s0.offset + Math.floor(s0.size / 2))}`);
    }
    const sl = info.sections[info.sections.length - 1];
    if (sl && sl.size >= 8) ndbStructural.push(`${name(`${kind}.SL`)}:${target}:SL+0:${at(sl.offset)}`);
    // Target type checks: right type matches, wrong type does not.
    const mid = Math.floor(data.length / 2);
    ndb.push(`${name(`${kind}.Target`)}:${target}:*:${at(mid, 12)}`);
    ndb.push(`${name(`${kind}.WrongTarget`)}:${other}:*:${at(mid, 12)}`);
    if (kind === 'pe') {
      for (const s of info.sections) {
        if (s.size === 0 || s.offset + s.size > data.length) continue;
        const sec = data.subarray(s.offset, s.offset + s.size);
        mdb.push(`${s.size}:${digest('md5', sec)}:${name('pe.SectionMd5')}`);
        msb.push(`${s.size}:${digest('sha256', sec)}:${name('pe.SectionSha256')}:73`);
      }
      hdb.push(`${digest('md5', data)}:${data.length}:${name('pe.FileMd5')}`);
    }
  }

  // Archives: planted content inside zip, tar, gzip, tar.gz and a zip inside a zip.
  const inner = blob(4000);
  const innerMarker = bytes(10);
  inner.set(innerMarker, 1234);
  ndb.push(`${name('InArchive')}:0:*:${hex(innerMarker)}`);
  hdb.push(`${digest('md5', inner)}:${inner.length}:${name('InArchiveMd5')}`);
  const tar = makeTar([['dir/inner.bin', inner], ['note.txt', new TextEncoder().encode('hello from tar\n')]]);
  put('archive.zip', zipSync({ 'a/inner.bin': inner, 'b.txt': new TextEncoder().encode('plain') }));
  put('archive-stored.zip', zipSync({ 'inner.bin': [inner, { level: 0 }] }));
  put('archive.tar', tar);
  put('archive.tar.gz', gzipSync(tar));
  put('inner.bin.gz', gzipSync(inner));
  put('nested.zip', zipSync({ 'level1.zip': zipSync({ 'level2.zip': zipSync({ 'inner.bin': inner }) }) }));

  writeFileSync(join(dbDir, 'palisade.ndb'), `${[...ndb, ...ndbStructural].join('\n')}\n`);
  writeFileSync(join(rawDbDir, 'palisade.ndb'), `${ndb.join('\n')}\n`);
  for (const [d, withStructural] of [
    [dbDir, true],
    [rawDbDir, false],
  ] as const) {
    writeFileSync(join(d, 'palisade.ldb'), `${ldb.join('\n')}\n`);
    writeFileSync(join(d, 'palisade.hdb'), `${hdb.join('\n')}\n`);
    writeFileSync(join(d, 'palisade.hsb'), `${hsb.join('\n')}\n`);
    writeFileSync(join(d, 'palisade.fp'), `${fp.join('\n')}\n`);
    writeFileSync(join(d, 'palisade.sfp'), `${sfp.join('\n')}\n`);
    if (withStructural && mdb.length > 0) {
      writeFileSync(join(d, 'palisade.mdb'), `${mdb.join('\n')}\n`);
      writeFileSync(join(d, 'palisade.msb'), `${msb.join('\n')}\n`);
    }
  }
  return { dir, dbDir, rawDbDir };
}

/** A minimal ustar archive. */
export function makeTar(entries: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [n, data] of entries) {
    const h = new Uint8Array(512);
    const enc = new TextEncoder();
    h.set(enc.encode(n), 0);
    h.set(enc.encode('0000644\0'), 100);
    h.set(enc.encode('0000000\0'), 108);
    h.set(enc.encode('0000000\0'), 116);
    h.set(enc.encode(`${data.length.toString(8).padStart(11, '0')}\0`), 124);
    h.set(enc.encode('00000000000\0'), 136);
    h[156] = 0x30;
    h.set(enc.encode('ustar\0'), 257);
    h.set(enc.encode('00'), 263);
    h.fill(32, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    parts.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
