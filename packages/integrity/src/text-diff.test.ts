import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeText, splitLines, unifiedDiff } from './text-diff.ts';

/** Applies a unified diff to `before` (a small patch(1)), so the tests check that hunks are right, not just present. */
function applyPatch(before: string, diff: string): string {
  const src = splitLines(before);
  const out: string[] = [];
  let pos = 0;
  let lastNoNewline = src.noFinalNewline;
  const lines = diff.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const h = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i]!);
    if (!h) continue;
    const aStart = Number(h[1]);
    const aLen = h[2] === undefined ? 1 : Number(h[2]);
    const first = aLen === 0 ? aStart : aStart - 1;
    while (pos < first) out.push(src.lines[pos++]!);
    for (i++; i < lines.length && !lines[i]!.startsWith('@@'); i++) {
      const l = lines[i]!;
      if (l === '') continue;
      if (l.startsWith('\\ No newline')) {
        if (lines[i - 1]!.startsWith('+') || lines[i - 1]!.startsWith(' ')) lastNoNewline = true;
        continue;
      }
      if (l[0] === ' ') {
        assert.equal(src.lines[pos], l.slice(1), 'context line matches');
        out.push(src.lines[pos++]!);
      } else if (l[0] === '-') {
        assert.equal(src.lines[pos], l.slice(1), 'removed line matches');
        pos++;
        lastNoNewline = false;
      } else if (l[0] === '+') {
        out.push(l.slice(1));
        lastNoNewline = false;
      }
    }
    i--;
  }
  while (pos < src.lines.length) out.push(src.lines[pos++]!);
  if (out.length === 0) return '';
  return out.join('\n') + (lastNoNewline && pos === src.lines.length ? '' : '\n');
}

function numbered(n: number, f: (i: number) => string = (i) => `line ${i}`): string {
  return Array.from({ length: n }, (_, i) => `${f(i)}\n`).join('');
}

test('equal texts give no diff', () => {
  const d = unifiedDiff('a\nb\n', 'a\nb\n');
  assert.deepEqual(d, { diff: '', added: 0, removed: 0, truncated: false, approximate: false });
  assert.equal(unifiedDiff('', '').diff, '');
});

test('a one-line change in the middle gives one hunk with three lines of context, like diff -u', () => {
  const before = numbered(20);
  const after = before.replace('line 10\n', 'line ten\n');
  const d = unifiedDiff(before, after, { labels: ['/etc/x', '/etc/x'] });
  assert.equal(
    d.diff,
    [
      '--- /etc/x',
      '+++ /etc/x',
      '@@ -8,7 +8,7 @@',
      ' line 7',
      ' line 8',
      ' line 9',
      '-line 10',
      '+line ten',
      ' line 11',
      ' line 12',
      ' line 13',
      '',
    ].join('\n'),
  );
  assert.equal(d.added, 1);
  assert.equal(d.removed, 1);
});

test('changes closer than twice the context share a hunk; farther ones do not', () => {
  const before = numbered(40);
  // Six equal lines between the changes (= 2 * 3): one hunk, as GNU diff -u does.
  const near = before.replace('line 10\n', 'X\n').replace('line 17\n', 'Y\n');
  assert.equal(unifiedDiff(before, near).diff.match(/^@@/gm)!.length, 1);
  const far = before.replace('line 10\n', 'X\n').replace('line 18\n', 'Y\n');
  assert.equal(unifiedDiff(before, far).diff.match(/^@@/gm)!.length, 2);
  assert.equal(applyPatch(before, unifiedDiff(before, far).diff), far);
});

test('insertions and deletions at the edges, and from or to an empty file', () => {
  const cases: [string, string][] = [
    ['a\nb\nc\n', 'x\na\nb\nc\n'],
    ['a\nb\nc\n', 'a\nb\nc\nz\n'],
    ['a\nb\nc\n', 'b\nc\n'],
    ['', 'new\nfile\n'],
    ['old\nfile\n', ''],
    ['a\nb\nc\nd\ne\n', 'e\nd\nc\nb\na\n'],
  ];
  for (const [a, b] of cases) {
    const d = unifiedDiff(a, b);
    assert.equal(applyPatch(a, d.diff), b, JSON.stringify([a, b, d.diff]));
  }
  assert.match(unifiedDiff('', 'x\n').diff, /@@ -0,0 \+1 @@/);
  assert.match(unifiedDiff('x\ny\n', '').diff, /@@ -1,2 \+0,0 @@/);
});

test('the diff is minimal (Myers): a moved block costs its lines, not the whole file', () => {
  const before = numbered(200);
  const lines = before.split('\n');
  const moved = [...lines.slice(0, 50), ...lines.slice(60, 120), ...lines.slice(50, 60), ...lines.slice(120)].join('\n');
  const d = unifiedDiff(before, moved);
  assert.equal(d.added, 10);
  assert.equal(d.removed, 10);
  assert.equal(applyPatch(before, d.diff), moved);
});

test('no newline at end of file is marked, and adding the newline is a change', () => {
  const d = unifiedDiff('a\nb', 'a\nb\n');
  assert.equal(d.diff, '--- before\n+++ after\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
  const d2 = unifiedDiff('a\nb', 'a\nc');
  assert.equal(d2.diff, '--- before\n+++ after\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n');
  assert.equal(applyPatch('a\nb', d2.diff), 'a\nc');
});

test('CRLF files: one changed line is one changed line; a CRLF to LF conversion changes every line', () => {
  const before = 'Port 22\r\nPermitRootLogin no\r\nX11Forwarding no\r\n';
  const after = 'Port 22\r\nPermitRootLogin yes\r\nX11Forwarding no\r\n';
  const d = unifiedDiff(before, after);
  assert.equal(d.added, 1);
  assert.equal(d.removed, 1);
  assert.ok(d.diff.includes('-PermitRootLogin no\r\n+PermitRootLogin yes\r\n'));
  const conv = unifiedDiff(before, before.replace(/\r\n/g, '\n'));
  assert.equal(conv.added, 3);
  assert.equal(conv.removed, 3);
});

test('long lines are compared whole but shown cut', () => {
  const long = 'k='.padEnd(100_000, 'a');
  const d = unifiedDiff(`${long}\n`, `${long}b\n`, { maxLineChars: 100 });
  assert.equal(d.added, 1);
  assert.ok(d.diff.length < 600, `diff of ${d.diff.length} characters`);
  assert.match(d.diff, /… \[99900 more characters\]/);
  assert.match(d.diff, /… \[99901 more characters\]/);
});

test('hostile sizes are bounded: the edit distance limit gives an approximate diff, the output limit a truncated one', () => {
  const a = numbered(3000, (i) => `a${i}`);
  const b = numbered(3000, (i) => `b${i}`);
  const d = unifiedDiff(a, b, { maxEditDistance: 100, maxOutputChars: 2000 });
  assert.equal(d.approximate, true);
  assert.equal(d.truncated, true);
  assert.equal(d.added, 3000);
  assert.equal(d.removed, 3000);
  assert.ok(d.diff.length < 2100);
  assert.match(d.diff, /diff truncated at 2000 characters\n$/);
  // Within the limit the same inputs are exact.
  const exact = unifiedDiff(
    numbered(50, (i) => `a${i}`),
    numbered(50, (i) => (i % 7 ? `a${i}` : `b${i}`)),
  );
  assert.equal(exact.approximate, false);
  assert.equal(exact.added, 8);
});

test('64 KiB of one-character lines, all different: approximate beyond the edit-distance limit, output bounded', () => {
  const a = 'x\n'.repeat(32768);
  const b = 'y\n'.repeat(32768);
  const d = unifiedDiff(a, b);
  assert.equal(d.approximate, true);
  assert.equal(d.added, 32768);
  assert.ok(d.diff.length <= 32768 + 100);
});

test('decodeText: text passes, NUL bytes and invalid UTF-8 are binary', () => {
  assert.equal(decodeText(new TextEncoder().encode('héllo\n')), 'héllo\n');
  assert.equal(decodeText(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00])), undefined);
  assert.equal(decodeText(Uint8Array.from([0x61, 0xff, 0xfe, 0x62])), undefined);
  assert.equal(decodeText(new Uint8Array()), '');
});
