import { AGENT_API, type InventoryReport } from '@palisade/protocol';
import type { AgentLogger } from './agent-logger.ts';
import { collectInventory, DEFAULT_APP_DIRS } from './inventory/index.ts';
import { httpError, type ManagerClient } from './manager-client.ts';

export interface InventoryReporterOptions {
  client: ManagerClient;
  logger: AgentLogger;
  /** Filesystem root to inventory (`/` on a live host). */
  root: string;
  appDirs?: string[];
}

/**
 * Collects the host's software inventory and reports it to the manager, which runs a
 * recommendation scan when it changed. Runs on start, on a `send-inventory` command, and
 * periodically, so upgrades (and removals) are noticed without anyone asking.
 */
export class InventoryReporter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: InventoryReporterOptions) {}

  async send(
    args: { root?: string; appDirs?: string[] } = {},
  ): Promise<{ items: number; ports: number; hash: string; changed: boolean; diagnostics: number }> {
    const inventory = await collectInventory({
      root: args.root ?? this.opts.root,
      appDirs: args.appDirs ?? this.opts.appDirs ?? DEFAULT_APP_DIRS,
    });
    const report: InventoryReport = {
      collectedAt: new Date().toISOString(),
      inventory: {
        ...(inventory.os ? { os: inventory.os as unknown as Record<string, unknown> } : {}),
        items: inventory.items,
        ports: inventory.ports as unknown as Array<Record<string, unknown>>,
        ...(inventory.processes ? { processes: inventory.processes as unknown as Array<Record<string, unknown>> } : {}),
        diagnostics: inventory.diagnostics.slice(0, 1000) as unknown as Array<Record<string, unknown>>,
      },
    };
    const res = await this.opts.client.request('POST', AGENT_API.inventory, report);
    if (res.status !== 200) throw httpError(res, AGENT_API.inventory);
    const body = res.body as { hash: string; changed: boolean };
    this.opts.logger.info({ items: inventory.items.length, changed: body.changed }, 'inventory reported');
    return {
      items: inventory.items.length,
      ports: inventory.ports.length,
      hash: body.hash,
      changed: body.changed,
      diagnostics: inventory.diagnostics.length,
    };
  }

  /** Reports after `firstDelayMs`, then every `intervalMs`; failures are logged and retried next time. */
  start(intervalMs: number, firstDelayMs: number): void {
    const tick = (delay: number) => {
      this.timer = setTimeout(() => {
        this.running = this.send()
          .catch((err) => this.opts.logger.warn({ err: (err as Error).message }, 'inventory report failed'))
          .finally(() => tick(intervalMs));
      }, delay);
      this.timer.unref();
    };
    tick(firstDelayMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }
}
