import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSignatures } from './load-signatures.ts';
import { parseYara } from './yara-parser.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function matches(rules: string, data: Uint8Array | string): string[] {
  const r = loadSignatures({ yara: [{ name: 't.yar', text: rules }] });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.value.scan(typeof data === 'string' ? enc(data) : data).detections.map((d) => d.name);
}

test('syntax errors carry file:line:column and do not hide the other rules\' errors', () => {
  const src = 'rule ok { condition: true }\nrule bad1 {\n  strings: $a = "x"\n  condition: $a and\n}\nrule bad2 { condition: $nope }\n';
  const r = parseYara(src, 'r.yar');
  assert.deepEqual(r.rules.map((x) => x.name), ['ok']);
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`),
    ['r.yar:5:1 SIG_YARA_SYNTAX', 'r.yar:6:24 SIG_YARA_SYNTAX'],
  );
});

test('unsupported features are refused per rule: modules, xor/base64, wide regex', () => {
  const src = [
    'import "pe"',
    'rule UsesPe { condition: pe.number_of_sections > 2 }',
    'rule Xor { strings: $a = "abc" xor condition: $a }',
    'rule Fine { strings: $a = "abc" condition: $a }',
  ].join('\n');
  const r = parseYara(src, 'u.yar');
  assert.deepEqual(r.rules.map((x) => x.name), ['Fine']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.line]), [
    ['SIG_YARA_MODULE_UNSUPPORTED', 'warning', 1],
    ['SIG_YARA_UNSUPPORTED', 'error', 2],
    ['SIG_YARA_UNSUPPORTED', 'error', 3],
  ]);
});

test('unreferenced strings and duplicate rules are errors, as in yara', () => {
  const r = parseYara('rule a { strings: $x = "1" $y = "2" condition: $x }\nrule b { condition: true }\nrule b { condition: true }', 'd.yar');
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['SIG_YARA_UNREFERENCED_STRING', 'SIG_YARA_DUPLICATE_RULE']);
});

test('text modifiers: nocase, wide, ascii, fullword', () => {
  const wide = (s: string) => Uint8Array.from([...enc(s)].flatMap((c) => [c, 0]));
  const data = new Uint8Array([...enc('xx EvIl yy '), ...wide('wide!'), ...enc(' evilness')]);
  const rules = `
    rule Nocase { strings: $a = "evil" nocase condition: #a == 2 }
    rule Exact { strings: $a = "evil" condition: #a == 1 }
    rule Wide { strings: $a = "wide" wide condition: $a }
    rule AsciiOnly { strings: $a = "wide" condition: $a }
    rule Fullword { strings: $a = "evil" nocase fullword condition: #a == 1 and @a[1] == 3 }`;
  assert.deepEqual(matches(rules, data).sort(), ['Exact', 'Fullword', 'Nocase', 'Wide']);
});

test('hex strings: wildcards, nibbles, jumps, alternatives, negation', () => {
  const data = Uint8Array.from([0x4d, 0x5a, 0x90, 0x00, 0x01, 0x02, 0x03, 0xcc, 0x41, 0x42]);
  const rules = `
    rule H1 { strings: $h = { 4D 5A ?? 00 } condition: $h at 0 }
    rule H2 { strings: $h = { 4D 5? 9? } condition: $h }
    rule H3 { strings: $h = { 4D [2-4] 01 } condition: $h }
    rule H4 { strings: $h = { 5A ( 91 | 90 00 ) 01 } condition: $h }
    rule H5 { strings: $h = { CC ~42 42 } condition: $h }
    rule H6 { strings: $h = { CC ~41 42 } condition: $h }
    rule H7 { strings: $h = { 4D [-] 42 } condition: !h[1] == 10 }`;
  assert.deepEqual(matches(rules, data), ['H1', 'H2', 'H3', 'H4', 'H5', 'H7']);
});

test('conditions: counts, offsets, reads, of-sets, loops, rule references, undefined values', () => {
  const data = enc('MZ..abc..abc..xyz..end');
  const rules = `
    rule C1 { strings: $a = "abc" condition: #a == 2 and @a[2] == 9 and !a[1] == 3 }
    rule C2 { strings: $a = "abc" $b = "xyz" $c = "nope" condition: 2 of them and not all of them }
    rule C3 { strings: $a1 = "abc" $a2 = "xyz" condition: all of ($a*) and $a2 in (10..20) }
    rule C4 { condition: uint16(0) == 0x5A4D and uint8(2) == 0x2E and uint16be(0) == 0x4D5A }
    rule C5 { condition: uint32(filesize - 2) == 0 or true }
    rule C6 { condition: not (uint32(filesize) == 0) } // undefined stays undefined through "not", as in YARA
    rule C7 { strings: $a = "abc" condition: for all i in (1..#a) : ( @a[i] > 3 ) }
    rule C8 { strings: $a = "abc" $b = "end" condition: for any of ($a, $b) : ( $ at 19 ) }
    private rule P { condition: filesize > 10 }
    rule C9 { condition: P and 50% of (C1, C2) }
    rule C10 { strings: $a = "abc" condition: #a in (0..5) == 1 and @a[3] == 0 }`;
  assert.deepEqual(matches(rules, data), ['C1', 'C2', 'C3', 'C4', 'C5', 'C7', 'C8', 'C9']);
});

test('regular expressions follow YARA: "." excludes only newline, \\s is ASCII, /i and /s flags', () => {
  const data = enc('Fox\rJumps\nfox\nJUMPS caf\xa0e');
  const rules = `
    rule R1 { strings: $r = /Fox.Jumps/ condition: $r }
    rule R2 { strings: $r = /fox.jumps/i condition: #r == 1 }
    rule R3 { strings: $r = /fox.jumps/is condition: #r == 2 }
    rule R4 { strings: $r = /caf\\se/ condition: $r }`;
  assert.deepEqual(matches(rules, data), ['R1', 'R2', 'R3']);
});

test('a global rule that fails silences every rule', () => {
  assert.deepEqual(matches('global rule G { condition: filesize > 100 }\nrule A { condition: true }', 'short'), []);
  assert.deepEqual(matches('global rule G { condition: filesize > 1 }\nrule A { condition: true }', 'short'), ['G', 'A']);
});

test('a pathological pattern on a hostile file is bounded and reported, not quadratic', () => {
  const r = loadSignatures({ yara: [{ name: 'p.yar', text: 'rule Slow { strings: $h = { 41 [0-2000000] 42 } condition: $h }' }] });
  assert.ok(r.ok);
  const data = new Uint8Array(1_000_000).fill(0x41);
  const t = performance.now();
  const res = r.value.scan(data);
  assert.ok(performance.now() - t < 20_000);
  assert.deepEqual(res.detections, []);
  assert.deepEqual(res.overBudget, ['Slow $h']);
});
