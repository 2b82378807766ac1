import { computersMatching } from '../services/smart-folder-members.ts';
import type { TriggerContext } from './action-context.ts';

export type Targets = 'source' | { computerIds: string[] } | { smartFolderId: string };

/** The computers an agent command goes to: the one that reported, listed ones, or a smart folder's. */
export async function resolveTargets(ctx: TriggerContext, targets: Targets): Promise<string[]> {
  if (targets === 'source') return ctx.computer && !ctx.computer.deactivatedAt ? [ctx.computer.id] : [];
  if ('computerIds' in targets) return targets.computerIds;
  const folder = await ctx.store.smartFolders.get(targets.smartFolderId);
  if (!folder) throw new Error(`no smart folder ${targets.smartFolderId}`);
  return (await computersMatching(ctx.store, folder.query, await ctx.store.computers.list())).map((c) => c.id);
}
