import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AppControlModule } from './app-control-module.ts';
import { AppControlLab, labUnavailableReason } from './testing/app-control-lab.ts';

const skip = labUnavailableReason();
if (skip) console.log(`# application control fail-open test skipped: ${skip}`);

const runner = fileURLToPath(new URL('./testing/enforcing-agent.ts', import.meta.url));

/** Child pids of a process, from /proc: every thread's list (the helper is forked by the enforcement thread). */
/** The fanotify-gate helpers among a process's children (other short-lived children do not count). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number))
      .filter((child) => {
        try {
          // The gate itself, not a short `--probe` run of the same binary.
          return (
            readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'fanotify-gate' &&
            !readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('--probe')
          );
        } catch {
          return false; // already gone
        }
      });
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('application control fails open when the agent dies', { skip, timeout: 90_000 }, () => {
  let lab: AppControlLab;
  before(() => {
    lab = new AppControlLab();
  });
  after(() => lab?.cleanup());

  test('SIGKILL of the agent while an exec waits for its verdict: the exec proceeds, the host runs programs', async () => {
    // Verdicts are held for a minute and the timeout is a minute: only the agent's death can release the exec.
    const agent = spawn(
      process.execPath,
      ['--import', 'tsx', runner, JSON.stringify({ mnt: lab.mnt, dataDir: join(lab.base, 'data'), delayMs: 60_000, timeoutMs: 60_000 })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const lines = createInterface({ input: agent.stdout! });
      const ready = await new Promise<string>((resolve, reject) => {
        lines.on('line', (l) => {
          if (l.startsWith('READY ')) resolve(l);
        });
        agent.once('exit', (c) => reject(new Error(`agent exited ${c}`)));
      });
      assert.match(ready, /"state":"running"/);
      const helpers = childrenOf(agent.pid!);
      assert.equal(helpers.length, 1, `helper processes: ${helpers}`);

      const waiting = lab.binary('waits-for-verdict');
      // Through sh, so the execve that waits is sh's, not this test process's spawn().
      const pending = lab.sh(waiting);
      const early = await Promise.race([pending.then(() => 'finished'), new Promise((r) => setTimeout(() => r('waiting'), 1000))]);
      assert.equal(early, 'waiting', 'the exec waits for the verdict while the agent lives');

      const killedAt = performance.now();
      process.kill(agent.pid!, 'SIGKILL');
      const r = await pending;
      const releasedAfter = performance.now() - killedAt;
      assert.equal(r.code, 0, r.stderr);
      assert.ok(releasedAfter < 5000, `released ${releasedAfter} ms after the kill`);
      for (let i = 0; i < 50 && helpers.some(alive); i++) await new Promise((res) => setTimeout(res, 100));
      assert.ok(!helpers.some(alive), 'the helper died with the agent');

      // Nothing is left that could block: a new unknown program runs at once.
      const fresh = await lab.run(lab.binary('after-the-kill'));
      assert.equal(fresh.code, 0);
      assert.ok(fresh.ms < 2000, `ran in ${fresh.ms} ms`);
    } finally {
      if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    }
  });
  test('a stuck helper (SIGSTOP) is killed by the watchdog: the waiting exec proceeds, enforcement is reported stopped', async () => {
    const m = new AppControlModule();
    await m.start(lab.context(lab.config('prevent')));
    try {
      await lab.ready(m);
      const helper = Number(m.status().details?.helperPid);
      assert.ok(helper > 0);
      const stuck = lab.binary('while-helper-stuck');
      process.kill(helper, 'SIGSTOP');
      const r = await lab.sh(stuck);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.ms > 3000 && r.ms < 15_000, `released after ${r.ms} ms`);
      assert.ok(await lab.waitForEvent('app-control.enforcement-stopped', () => true));
      assert.equal(m.status().state, 'error');
      assert.equal((await lab.run(lab.binary('after-watchdog'))).code, 0);
    } finally {
      await m.stop();
    }
  });
});
