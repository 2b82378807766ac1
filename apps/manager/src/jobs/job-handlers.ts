import type { Job } from '../store/job-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { matchesQuery } from '../queries/smart-folder-query.ts';
import { queryableComputers } from '../http/routes/computer-routes.ts';

export type JobHandler = (job: Job, store: TenantStore, deps: { notify(computerId: string): void }) => Promise<unknown>;

/**
 * Job kinds the manager can run. A scheduled task naming an unknown kind produces a failed job
 * with that reason instead of silently doing nothing.
 */
export const JOB_HANDLERS: Record<string, JobHandler> = {
  /** Records that it ran; useful to check a schedule (and that it runs once across nodes). */
  noop: async (job, store) => {
    await store.audit.record(`job:${job.id}`, 'job.noop', `job:${job.id}`, { dedupeKey: job.dedupeKey });
    return { ran: true };
  },
  /** Sends a command to computers: `{ kind, args?, computerIds? | smartFolderId? }`. */
  'send-command': async (job, store, deps) => {
    const { kind, args, computerIds, smartFolderId } = job.args as {
      kind?: string;
      args?: Record<string, unknown>;
      computerIds?: string[];
      smartFolderId?: string;
    };
    if (!kind) throw new Error('send-command needs args.kind');
    let targets = computerIds ?? [];
    if (smartFolderId) {
      const folder = await store.smartFolders.get(smartFolderId);
      if (!folder) throw new Error(`no smart folder ${smartFolderId}`);
      const all = await queryableComputers(store, await store.computers.list());
      targets = all.filter((x) => matchesQuery(x.view, folder.query)).map((x) => x.computer.id);
    }
    for (const id of targets) {
      await store.commands.enqueue(id, kind, args ?? {});
      deps.notify(id);
    }
    return { sent: targets.length };
  },
};
