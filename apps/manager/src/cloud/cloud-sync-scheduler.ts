import type { JobHandler } from '../jobs/job-handlers.ts';
import type { StoreProvider } from '../store/store-provider.ts';
import type { CloudConnector } from './cloud-connector.ts';
import { syncCloudAccount } from './cloud-sync.ts';

/** The job that syncs one account: `cloud-sync {accountId}`. */
export function cloudSyncJob(connector: CloudConnector): JobHandler {
  return async (job, store) => {
    const { accountId } = job.args as { accountId?: string };
    if (!accountId) throw new Error('cloud-sync needs args.accountId');
    const account = await store.cloud.account(accountId);
    if (!account) throw new Error(`no cloud account ${accountId}`);
    if (!account.enabled) return { skipped: 'disabled' };
    const s = await syncCloudAccount(store, connector, account);
    return Object.fromEntries(
      Object.entries(s.regions).map(([r, x]) => [
        r,
        { instances: x.instances, discovered: x.discovered.length, retired: x.retired.length },
      ]),
    );
  };
}

/**
 * Periodic sync: every account is due once per its interval. The job runner runs the sync, so
 * with several manager nodes one node syncs each account per interval (the dedupe key is the
 * account and the interval's slot).
 */
export class CloudSyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly stores: StoreProvider,
    private readonly opts: { clock?: () => Date; log?: { error(obj: object, msg: string): void } } = {},
  ) {}

  async tick(): Promise<number> {
    const now = (this.opts.clock ?? (() => new Date()))();
    let queued = 0;
    for (const t of await this.stores.listTenants()) {
      const store = await this.stores.tenant(t.id);
      if (!store) continue;
      for (const a of await store.cloud.listAccounts()) {
        if (!a.enabled) continue;
        const due = !a.lastSyncAt || now.getTime() - Date.parse(a.lastSyncAt) >= a.syncIntervalSeconds * 1000;
        if (!due) continue;
        const slot = Math.floor(now.getTime() / (a.syncIntervalSeconds * 1000));
        if (await store.jobs.enqueue('cloud-sync', { accountId: a.id }, { dedupeKey: `cloud-sync:${a.id}:${slot}` })) queued++;
      }
    }
    return queued;
  }

  start(intervalMs = 30_000): void {
    const run = () => {
      if (this.ticking) return;
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((err) => this.opts.log?.error({ err }, 'cloud sync scheduling failed'))
        .finally(() => {
          this.ticking = undefined;
        });
    };
    setTimeout(run, 1000).unref();
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }
}
