import type { StoreProvider } from '../store/store-provider.ts';
import { syncDrift } from './app-control-service.ts';

export interface DriftIntakeOptions {
  intervalMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Turns the agents' app-control drift events into drift records every few seconds, on every
 * tenant. Intake is idempotent, so every manager node may run this at once; the drift API also
 * runs it before answering, so what an operator sees is never older than the last event stored.
 */
export class DriftIntake {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly stores: StoreProvider,
    private readonly options: DriftIntakeOptions = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => {
        this.running = undefined;
      });
    }, this.options.intervalMs ?? 5000);
    this.timer.unref();
  }

  async tick(): Promise<void> {
    for (const t of await this.stores.listTenants()) {
      try {
        const store = await this.stores.tenant(t.id);
        if (store) await syncDrift(store);
      } catch (err) {
        this.options.log?.warn({ tenant: t.id, err: (err as Error).message }, 'app-control drift intake failed');
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
