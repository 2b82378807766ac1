import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GATE_BINARY } from './gate-binary.ts';
import { AppControlLab, labUnavailableReason } from './testing/app-control-lab.ts';

// The helper's hashing on its own (no agent): in --detect mode it answers every event itself
// and prints an N line with the SHA-256 it computed, so the test reads the hashes directly.

const skip = labUnavailableReason();
if (skip) console.log(`# fanotify-gate hashing tests skipped: ${skip}`);

/**
 * The smallest file the helper treats as a shared library (ELF, ET_DYN, no program headers so
 * no PT_INTERP): any process opening it, `cat` included, makes the helper hash it.
 */
function libraryHeader(): Buffer {
  const h = Buffer.alloc(64);
  h.write('\x7fELF', 0, 'latin1');
  h[4] = 2; // 64-bit
  h[5] = 1; // little-endian
  h[6] = 1;
  h.writeUInt16LE(3, 16); // ET_DYN
  h.writeUInt16LE(56, 54); // e_phentsize, e_phnum = 0
  return h;
}

interface Gate {
  child: ChildProcess;
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

function startGate(mnt: string, env: NodeJS.ProcessEnv = {}): Promise<Gate> {
  const child = spawn(GATE_BINARY, ['--detect', '--mount', mnt], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const gate: Gate = { child, lines: [], exited: false, exit: undefined as never };
  gate.exit = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      gate.exited = true;
      resolve({ code, signal });
    }),
  );
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    gate.lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => gate.lines.push(`stderr: ${d.toString().trim()}`));
  return waitFor(() => gate.exited || gate.lines.some((l) => l.startsWith('READY')), 15_000).then(() => {
    if (gate.exited) throw new Error(`fanotify-gate did not start: ${gate.lines.join('\n')}`);
    return gate;
  });
}

async function stopGate(gate: Gate): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!gate.exited) gate.child.stdin!.end(); // stdin EOF: the helper exits on its own
  const timer = setTimeout(() => gate.child.kill('SIGKILL'), 10_000);
  const r = await gate.exit;
  clearTimeout(timer);
  return r;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function run(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: 'ignore', timeout: 15_000, killSignal: 'SIGKILL' });
    c.on('error', () => resolve(null));
    c.on('close', (code) => resolve(code));
  });
}

describe('fanotify-gate hashing', { skip, timeout: 120_000 }, () => {
  let lab: AppControlLab;
  before(() => {
    lab = new AppControlLab();
  });
  after(() => lab?.cleanup());

  // Sizes around the helper's 64 KiB read buffer and SHA-256's 64-byte block and padding.
  const sizes = [64, 119, 120, 65_535, 65_536, 65_537, 3 * 65_536 + 17, 1_048_576 + 3];
  for (const [label, env, engine] of [
    ['libcrypto when present', {}, undefined],
    ['portable C', { PALISADE_GATE_PORTABLE_SHA256: '1' }, 'portable'],
  ] as const) {
    test(`hashes equal sha256 of the whole file (${label})`, async () => {
      const files = sizes.map((size, i) => {
        const p = join(lab.mnt, `hash-${engine ?? 'default'}-${i}`);
        writeFileSync(p, Buffer.concat([libraryHeader(), randomBytes(size - 64)]));
        return p;
      });
      const gate = await startGate(lab.mnt, env);
      try {
        if (engine) assert.match(gate.lines[0]!, new RegExp(`^READY \\d+ ${engine}$`));
        for (const p of files) assert.equal(await run('/bin/cat', [p]), 0);
        for (const p of files) {
          const want = createHash('sha256').update(readFileSync(p)).digest('hex');
          const seen = await waitFor(() => gate.lines.some((l) => l.endsWith(` ${p}`)), 10_000);
          assert.ok(seen, `no report for ${p}: ${gate.lines.join('\n')}`);
          const line = gate.lines.find((l) => l.endsWith(` ${p}`))!;
          assert.equal(line.split(' ')[5], want, `${p} (${readFileSync(p).length} bytes)`);
        }
      } finally {
        const r = await stopGate(gate);
        assert.equal(r.signal, null, `helper ended by ${r.signal}`);
      }
    });
  }

  test('a file truncated while it is being hashed gets an answer; the helper does not die (issue #10, SIGBUS)', async () => {
    const big = join(lab.mnt, 'shrinking');
    writeFileSync(big, libraryHeader());
    // The file is opened for writing BEFORE the helper marks the mount: ftruncate() on that
    // descriptor raises no open event, so the shrinking runs while the helper reads.
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs'); const fd = fs.openSync(${JSON.stringify(big)}, 'r+'); process.stdout.write('ready\\n');
         const end = Date.now() + 100_000; // never outlives a test run that was cut short
         while (Date.now() < end) { fs.ftruncateSync(fd, 24 << 20); fs.ftruncateSync(fd, 4096); }`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let writerReady = false;
    writer.stdout!.on('data', () => {
      writerReady = true;
    });
    let reader: ChildProcess | undefined;
    let gate: Gate | undefined;
    try {
      assert.ok(await waitFor(() => writerReady, 15_000), 'truncating writer started');
      gate = await startGate(lab.mnt);
      // Opens in a loop: each one (the file changed, so a cache miss) makes the helper hash it.
      reader = spawn(
        '/bin/sh',
        ['-c', `end=$(($(date +%s) + 100)); while [ $(date +%s) -lt $end ]; do cat ${big} > /dev/null 2>&1; done`],
        { stdio: 'ignore' },
      );
      const reports = () => gate!.lines.filter((l) => l.startsWith('N ') && l.endsWith(` ${big}`)).length;
      // Many hashes of a file that changes size under the reader; with mmap the helper died of
      // SIGBUS within the first few here.
      await waitFor(() => gate!.exited || reports() >= 40, 60_000);
      if (gate.exited) assert.fail(`helper ended: ${JSON.stringify(await gate.exit)}`);
      assert.ok(reports() >= 40, `only ${reports()} answers: ${gate.lines.slice(-5).join('\n')}`);
    } finally {
      reader?.kill('SIGKILL');
      writer.kill('SIGKILL');
      if (gate) {
        const r = await stopGate(gate);
        assert.equal(r.signal, null, `helper ended by ${r.signal}`);
        assert.equal(r.code, 0);
      }
    }
  });
});
