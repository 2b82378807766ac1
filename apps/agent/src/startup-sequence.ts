import type { AgentLogger } from './agent-logger.ts';
import { errorMessage } from './agent-error.ts';

/**
 * One named start-up step. `run` returns the undo for what it did (or nothing when there is
 * nothing to undo), so that undo is registered only for steps that actually completed.
 */
export interface StartupStep {
  name: string;
  run(): Promise<(() => Promise<void> | void) | undefined | void>;
}

export interface StartedSequence {
  /** Names of the steps that completed, in order. */
  readonly started: readonly string[];
  /** Undoes every completed step in reverse order; every undo runs even if an earlier one throws. */
  shutdown(): Promise<void>;
}

export class StartupError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`start-up step "${step}" failed: ${errorMessage(cause)}`);
    this.name = 'StartupError';
  }
}

async function undoAll(
  undos: { name: string; undo: () => Promise<void> | void }[],
  log: AgentLogger,
): Promise<void> {
  for (const { name, undo } of [...undos].reverse()) {
    try {
      log.info({ step: name }, `shutdown: ${name}`);
      await undo();
    } catch (err) {
      // keep going: a failed undo must not leave later resources (socket, spool) open
      log.error({ step: name, err: errorMessage(err) }, `shutdown of ${name} failed`);
    }
  }
}

/** Runs the steps in order; on the first failure undoes the completed ones in reverse and rethrows. */
export async function runStartupSequence(steps: readonly StartupStep[], log: AgentLogger): Promise<StartedSequence> {
  const undos: { name: string; undo: () => Promise<void> | void }[] = [];
  const started: string[] = [];
  for (const step of steps) {
    log.info({ step: step.name }, `start-up: ${step.name}`);
    let undo: (() => Promise<void> | void) | undefined | void;
    try {
      undo = await step.run();
    } catch (err) {
      log.error({ step: step.name, err: errorMessage(err) }, `start-up step ${step.name} failed; undoing ${started.length} step(s)`);
      await undoAll(undos, log);
      throw new StartupError(step.name, err);
    }
    started.push(step.name);
    if (undo) undos.push({ name: step.name, undo });
  }
  let shutdownPromise: Promise<void> | undefined;
  return {
    started,
    shutdown() {
      // idempotent: SIGTERM during a stop() must not close things twice
      shutdownPromise ??= undoAll(undos, log);
      return shutdownPromise;
    },
  };
}
