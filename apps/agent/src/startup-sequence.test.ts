import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from './agent-logger.ts';
import { runStartupSequence, StartupError, type StartupStep } from './startup-sequence.ts';

function recorder() {
  const log: string[] = [];
  const step = (name: string, opts: { fail?: boolean; undoFails?: boolean; noUndo?: boolean } = {}): StartupStep => ({
    name,
    async run() {
      log.push(`run ${name}`);
      if (opts.fail) throw new Error(`${name} broke`);
      if (opts.noUndo) return undefined;
      return async () => {
        log.push(`undo ${name}`);
        if (opts.undoFails) throw new Error(`undo ${name} broke`);
      };
    },
  });
  return { log, step };
}

test('steps run in order and shutdown undoes them in reverse', async () => {
  const { log, step } = recorder();
  const seq = await runStartupSequence([step('a'), step('b', { noUndo: true }), step('c')], silentLogger());
  assert.deepEqual(seq.started, ['a', 'b', 'c']);
  await seq.shutdown();
  assert.deepEqual(log, ['run a', 'run b', 'run c', 'undo c', 'undo a']);
});

test('a failing step undoes only the completed steps, in reverse, and names the step', async () => {
  const { log, step } = recorder();
  await assert.rejects(
    runStartupSequence([step('a'), step('b'), step('c', { fail: true }), step('d')], silentLogger()),
    (err: unknown) => err instanceof StartupError && err.step === 'c' && /c broke/.test(err.message),
  );
  assert.deepEqual(log, ['run a', 'run b', 'run c', 'undo b', 'undo a']);
});

test('every undo runs even when one throws, and shutdown is idempotent', async () => {
  const { log, step } = recorder();
  const seq = await runStartupSequence([step('a'), step('b', { undoFails: true }), step('c')], silentLogger());
  await Promise.all([seq.shutdown(), seq.shutdown()]);
  await seq.shutdown();
  assert.deepEqual(log.filter((l) => l.startsWith('undo')), ['undo c', 'undo b', 'undo a']);
});
