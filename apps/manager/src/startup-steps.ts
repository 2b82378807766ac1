/**
 * Start-up as an ordered list of named steps. If a step fails, the steps already done are undone
 * in reverse order, so a failed start leaves nothing half-running; `shutdown()` does the same
 * for a clean stop.
 */
export interface StartupStep {
  name: string;
  run(): Promise<void>;
  undo?(): Promise<void>;
}

export class StartupSequence {
  private readonly done: StartupStep[] = [];

  constructor(private readonly log: (msg: string) => void = () => {}) {}

  async run(steps: readonly StartupStep[]): Promise<void> {
    for (const step of steps) {
      try {
        await step.run();
        this.done.push(step);
        this.log(`start-up: ${step.name}: ok`);
      } catch (err) {
        this.log(`start-up: ${step.name}: failed: ${(err as Error).message}`);
        await this.shutdown();
        throw err;
      }
    }
  }

  async shutdown(): Promise<void> {
    while (this.done.length) {
      const step = this.done.pop()!;
      try {
        await step.undo?.();
      } catch (err) {
        this.log(`shutdown: ${step.name}: ${(err as Error).message}`);
      }
    }
  }
}
