import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileTailer, type FileTailerOptions } from './file-tailer.ts';

const root = mkdtempSync(join(tmpdir(), 'palisade-tailer-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A fresh directory with a log path and a state file; `clock.t` drives the rotation grace. */
function setup(extra: Partial<FileTailerOptions> = {}) {
  const dir = join(root, `case-${n++}`);
  mkdirSync(dir);
  const log = join(dir, 'app.log');
  const clock = { t: 1_000_000 };
  const options: FileTailerOptions = {
    sources: [{ pattern: log, format: 'syslog' }],
    stateFile: join(dir, 'state.json'),
    startAt: 'beginning',
    rotationGraceMs: 1000,
    now: () => clock.t,
    ...extra,
  };
  return { dir, log, clock, options, tailer: () => new FileTailer(options) };
}

/** One poll, committed, returning the line texts. */
function take(t: FileTailer): string[] {
  const b = t.poll();
  t.commit(b);
  return b.lines.map((l) => l.text);
}

test('rename rotation: the old file is read to its end (late writes included), then the new one from its start', () => {
  const { log, clock, tailer } = setup();
  writeFileSync(log, 'l1\nl2\n');
  const t = tailer();
  assert.deepEqual(take(t), ['l1', 'l2']);
  appendFileSync(log, 'l3\n');
  renameSync(log, `${log}.1`);
  // The writer still holds the old file for a moment (logrotate without copytruncate, before
  // the daemon reopens): this line lands in app.log.1 after the rename.
  appendFileSync(`${log}.1`, 'l4\n');
  writeFileSync(log, 'n1\n');
  assert.deepEqual(take(t), ['l3', 'l4', 'n1']);
  appendFileSync(`${log}.1`, 'l5 (after the first poll that saw the rotation)\n');
  appendFileSync(log, 'n2\n');
  assert.deepEqual(take(t), ['l5 (after the first poll that saw the rotation)', 'n2']);
  clock.t += 2000;
  assert.deepEqual(take(t), []);
  assert.equal(t.tracked().length, 1, 'the rotated file is closed after the grace period');
  assert.equal(t.tracked()[0]!.path, log);
  t.close();
});

test('a rotated file ending in a partial line: the partial is delivered when the file is finished', () => {
  const { log, clock, tailer } = setup();
  writeFileSync(log, 'a\nlast-without-newline');
  const t = tailer();
  assert.deepEqual(take(t), ['a']);
  renameSync(log, `${log}.1`);
  writeFileSync(log, 'b\n');
  assert.deepEqual(take(t), ['b']);
  clock.t += 1500;
  assert.deepEqual(take(t), ['last-without-newline']);
  t.close();
});

test('truncation in place (copytruncate): reading starts over at 0, shorter or longer than before', () => {
  const { log, clock, tailer } = setup();
  writeFileSync(log, 'first line of the file\nsecond line of the file\n');
  const t = tailer();
  assert.equal(take(t).length, 2);
  truncateSync(log, 0);
  appendFileSync(log, 'x1\n');
  assert.deepEqual(take(t), ['x1']);
  // Truncated and rewritten past the old offset before the next poll: the size alone cannot tell,
  // the fingerprint of the first bytes does.
  const before = 'x1\n'.length;
  truncateSync(log, 0);
  clock.t += 10;
  writeFileSync(log, 'y1 a new beginning that is longer\ny2\n');
  assert.ok('y1 a new beginning that is longer\ny2\n'.length > before);
  assert.deepEqual(take(t), ['y1 a new beginning that is longer', 'y2']);
  t.close();
});

test('restart resumes at the committed offset; an uncommitted batch is read again', () => {
  const { log, tailer } = setup();
  writeFileSync(log, 'a\nb\n');
  const t1 = tailer();
  assert.deepEqual(take(t1), ['a', 'b']);
  appendFileSync(log, 'c\n');
  // Read but not committed (the agent died before the alerts were spooled).
  assert.deepEqual(
    t1.poll().lines.map((l) => l.text),
    ['c'],
  );
  t1.close();
  appendFileSync(log, 'd\n');
  const t2 = tailer();
  assert.deepEqual(take(t2), ['c', 'd']);
  t2.close();
  const t3 = tailer();
  assert.deepEqual(take(t3), []);
  t3.close();
});

test('restart after a rotation that happened while stopped: rest of the old file first, then the new one', () => {
  const { log, tailer } = setup();
  writeFileSync(log, 'a\n');
  const t1 = tailer();
  assert.deepEqual(take(t1), ['a']);
  t1.close();
  appendFileSync(log, 'b (written while the agent was down)\n');
  renameSync(log, `${log}.1`);
  writeFileSync(log, 'c\n');
  const t2 = tailer();
  assert.deepEqual(take(t2), ['b (written while the agent was down)', 'c']);
  t2.close();
});

test('restart after truncation while stopped, and a file replaced by another (inode reuse guarded by the fingerprint)', () => {
  const { log, tailer } = setup();
  writeFileSync(log, 'aaaaaaaaaa\nbbbbbbbbbb\n');
  const t1 = tailer();
  assert.equal(take(t1).length, 2);
  t1.close();
  truncateSync(log, 0);
  appendFileSync(log, 'c\n');
  const t2 = tailer();
  assert.deepEqual(take(t2), ['c']);
  t2.close();
  // Same inode, rewritten to a longer content with other first bytes.
  writeFileSync(log, 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\nyy\n');
  const t3 = tailer();
  assert.deepEqual(take(t3), ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'yy']);
  t3.close();
});

test('partial lines wait for their newline, also across a restart; CRLF endings are stripped', () => {
  const { log, tailer } = setup();
  writeFileSync(log, 'one\r\ntw');
  const t1 = tailer();
  assert.deepEqual(take(t1), ['one']);
  appendFileSync(log, 'o-');
  assert.deepEqual(take(t1), []);
  t1.close();
  appendFileSync(log, 'done\nthree');
  const t2 = tailer();
  assert.deepEqual(take(t2), ['two-done']);
  appendFileSync(log, '\n');
  assert.deepEqual(take(t2), ['three']);
  t2.close();
});

test('an over-long line is cut at the limit and the rest of it dropped', () => {
  const { log, tailer } = setup({ maxLineBytes: 16 });
  const t = tailer();
  writeFileSync(log, `${'x'.repeat(40)}`);
  const b1 = t.poll();
  t.commit(b1);
  assert.deepEqual(
    b1.lines.map((l) => [l.text, l.cut]),
    [['x'.repeat(16), true]],
  );
  appendFileSync(log, `${'y'.repeat(40)}\nshort\n${'z'.repeat(20)}\n`);
  const b2 = t.poll();
  t.commit(b2);
  assert.deepEqual(
    b2.lines.map((l) => l.text),
    ['short', 'z'.repeat(16)],
  );
  t.close();
});

test('globs: files present at first start begin at their end (startAt end); files appearing later are read whole', () => {
  const dir = join(root, 'glob');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'old.log'), 'history\n');
  writeFileSync(join(dir, 'skip.txt'), 'not a log\n');
  const options: FileTailerOptions = {
    sources: [{ pattern: join(dir, '**/*.log'), format: 'syslog', location: 'apps' }],
    stateFile: join(dir, 'state.json'),
  };
  const t = new FileTailer(options);
  assert.deepEqual(take(t), []);
  appendFileSync(join(dir, 'old.log'), 'new in old\n');
  writeFileSync(join(dir, 'sub', 'fresh.log'), 'fresh 1\nfresh 2\n');
  const b = t.poll();
  t.commit(b);
  assert.deepEqual(
    b.lines.map((l) => [l.text, l.location]),
    [
      ['new in old', 'apps'],
      ['fresh 1', 'apps'],
      ['fresh 2', 'apps'],
    ],
  );
  t.close();
  // The pattern is known now: a file created under it while the agent is down is read whole.
  writeFileSync(join(dir, 'while-down.log'), 'w1\n');
  const t2 = new FileTailer(options);
  assert.deepEqual(take(t2), ['w1']);
  t2.close();
});

test('a deleted file is drained and forgotten; the read budget splits a backlog over polls', () => {
  const { log, clock, tailer } = setup({ readBytesPerPoll: 64 });
  const lines = Array.from({ length: 20 }, (_, i) => `line ${String(i).padStart(3, '0')}`);
  writeFileSync(log, `${lines.join('\n')}\n`);
  const t = tailer();
  const got: string[] = [];
  let more = true;
  for (let i = 0; i < 50 && more; i++) {
    const b = t.poll();
    t.commit(b);
    got.push(...b.lines.map((l) => l.text));
    more = b.more;
  }
  assert.deepEqual(got, lines);
  unlinkSync(log);
  assert.deepEqual(take(t), []);
  clock.t += 2000;
  assert.deepEqual(take(t), []);
  assert.equal(t.tracked().length, 0);
  t.close();
});

test('rewind: a batch that could not be handled is read again from the last commit', () => {
  const { log, tailer } = setup();
  writeFileSync(log, 'a\n');
  const t = tailer();
  assert.deepEqual(take(t), ['a']);
  appendFileSync(log, 'b\nc\n');
  assert.equal(t.poll().lines.length, 2);
  t.rewind();
  assert.deepEqual(take(t), ['b', 'c']);
  assert.deepEqual(take(t), []);
  t.close();
});

test('a file resumed after a restart takes the format now configured, not the one saved with its offset', () => {
  const { log, options } = setup();
  writeFileSync(log, 'a\n');
  const t1 = new FileTailer(options);
  assert.deepEqual(take(t1), ['a']);
  t1.close();
  appendFileSync(log, 'b\n');
  const t2 = new FileTailer({ ...options, sources: [{ pattern: log, format: 'json' }] });
  const b = t2.poll();
  t2.commit(b);
  assert.deepEqual(
    b.lines.map((l) => [l.text, l.format]),
    [['b', 'json']],
  );
  // Each line also says where it lies in its file (for multi-line records).
  assert.equal(b.lines[0]!.start, 2);
  assert.equal(b.lines[0]!.end, 4);
  t2.close();
});
