import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goToolchainVersion, parseGoBuildInfo } from './go-build-info.ts';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A fake executable carrying a Go 1.18+ build info blob at a 16-byte aligned offset. */
function fakeBinary(goVersion: string, modinfo: string): Uint8Array {
  const enc = new TextEncoder();
  const header = [0xff, ...enc.encode(' Go buildinf:'), 8, 0x2, ...new Array(16).fill(0)];
  const mi = [...new Array(16).fill(0x30), ...enc.encode(modinfo), ...new Array(16).fill(0x31)];
  const v = enc.encode(goVersion);
  const blob = [...header, ...varint(v.length), ...v, ...varint(mi.length), ...mi];
  return new Uint8Array([...new Array(64).fill(0x90), ...blob, ...new Array(32).fill(0)]);
}

test('Go 1.18+ build info: stdlib, main module, dependencies and replacements', () => {
  const modinfo = [
    'path\tgithub.com/example/tool',
    'mod\tgithub.com/example/tool\tv1.2.3\th1:abc=',
    'dep\tgolang.org/x/sys\tv0.0.0-20220412211240-33da011f77ad\th1:x=',
    'dep\tgithub.com/opencontainers/runc\tv1.0.2\th1:y=',
    '=>\tgithub.com/fork/runc\tv1.1.5\th1:z=',
    'build\t-compiler=gc',
  ].join('\n');
  const r = parseGoBuildInfo(fakeBinary('go1.18.1', modinfo), '/usr/local/bin/tool');
  assert.deepEqual(
    r.items.map((i) => `${i.name}@${i.version}`),
    ['stdlib@1.18.1', 'github.com/example/tool@1.2.3', 'golang.org/x/sys@0.0.0-20220412211240-33da011f77ad', 'github.com/fork/runc@1.1.5'],
  );
  assert.equal(r.items[1]!.purl, 'pkg:golang/github.com/example/tool@1.2.3');
  assert.deepEqual(r.diagnostics, []);
});

test('non-Go files yield nothing', () => {
  assert.deepEqual(parseGoBuildInfo(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 'x'), { items: [], diagnostics: [] });
});

test('toolchain versions in the Go vulnerability database spelling', () => {
  assert.equal(goToolchainVersion('go1.21.3'), '1.21.3');
  assert.equal(goToolchainVersion('go1.20 X:boringcrypto'), '1.20.0');
  assert.equal(goToolchainVersion('go1.22rc1'), '1.22.0-rc.1');
  assert.equal(goToolchainVersion('devel +abc'), undefined);
});
