import { computersMatching } from '../services/smart-folder-members.ts';
import type { Job } from '../store/job-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import type { RecommendationService } from '../recommendations/recommendation-service.ts';

export interface JobDeps {
  notify(computerId: string): void;
  recommendations?: RecommendationService;
}

export type JobHandler = (job: Job, store: TenantStore, deps: JobDeps) => Promise<unknown>;

async function targetsOf(
  store: TenantStore,
  args: { computerIds?: string[]; smartFolderId?: string; computerId?: string },
): Promise<string[]> {
  if (args.computerId) return [args.computerId];
  if (args.computerIds) return args.computerIds;
  const all = await store.computers.list();
  if (!args.smartFolderId) return all.map((c) => c.id);
  const folder = await store.smartFolders.get(args.smartFolderId);
  if (!folder) throw new Error(`no smart folder ${args.smartFolderId}`);
  return (await computersMatching(store, folder.query, all)).map((c) => c.id);
}

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
  /**
   * Recommendation scan of one computer, the computers of a smart folder, or all: applies the
   * diff where the policy says `auto`, and skips computers whose policy says `off` unless the
   * scan was asked for one computer.
   */
  'recommendation-scan': async (job, store, deps) => {
    if (!deps.recommendations) throw new Error('recommendation scans are not available on this node');
    const args = job.args as { computerId?: string; computerIds?: string[]; smartFolderId?: string };
    const summary = { scanned: 0, skipped: 0, assigned: 0, unassigned: 0 };
    for (const id of await targetsOf(store, args)) {
      const c = await store.computers.get(id);
      if (!c || c.deactivatedAt) continue;
      const out = await deps.recommendations.scan(store, id, 'by-policy', `job:${job.id}`);
      if (out.mode === 'off' && !args.computerId) {
        summary.skipped++;
        continue;
      }
      summary.scanned++;
      if (out.applied) {
        summary.assigned += out.diff.assign.length;
        summary.unassigned += out.diff.unassign.length;
        deps.notify(id);
      }
    }
    return summary;
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
    if (!computerIds && !smartFolderId) throw new Error('send-command needs args.computerIds or args.smartFolderId');
    const targets = await targetsOf(store, { ...(computerIds ? { computerIds } : {}), ...(smartFolderId ? { smartFolderId } : {}) });
    for (const id of targets) {
      await store.commands.enqueue(id, kind, args ?? {});
      deps.notify(id);
    }
    return { sent: targets.length };
  },
};
