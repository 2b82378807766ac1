import { type ActionHandler, ActionSkipped } from './action-context.ts';
import type { RunScanAction } from './playbook-schema.ts';
import { resolveTargets } from './playbook-targets.ts';

/** An on-demand anti-malware scan (`anti-malware.scan {paths}`) on the target computers. Not undoable. */
export const runScanAction: ActionHandler<RunScanAction> = {
  async run(ctx, a) {
    const targets = await resolveTargets(ctx, a.targets);
    if (targets.length === 0) throw new ActionSkipped('no target computers');
    const commands: { computerId: string; commandId: string }[] = [];
    for (const id of targets) {
      const c = await ctx.store.commands.enqueue(id, 'anti-malware.scan', { paths: a.paths ?? ['/'] });
      commands.push({ computerId: id, commandId: c.id });
      ctx.notify(id);
    }
    return {
      status: 'succeeded',
      inputs: { targets: a.targets, paths: a.paths ?? ['/'] },
      result: { commands },
      undoable: false,
      expiresAt: null,
    };
  },
};
