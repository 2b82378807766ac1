import { type ActionDeps, type ActionHandler, ActionSkipped } from './action-context.ts';
import type { FirewallBlockAction, PlaybookActionRecord } from './playbook-schema.ts';
import { resolveTargets } from './playbook-targets.ts';

/**
 * Palisade's own dynamic block list: a `firewall.block` command to each target's firewall module,
 * which drops the address for `seconds` (the agent expires it by itself, even offline). Undo sends
 * `firewall.unblock`; the command results show per computer whether it took.
 */
export const firewallBlockAction: ActionHandler<FirewallBlockAction> = {
  async run(ctx, a) {
    if (!ctx.attacker) throw new ActionSkipped('the event names no attacker address');
    const targets = await resolveTargets(ctx, a.targets);
    if (targets.length === 0) throw new ActionSkipped('no target computers');
    const commands: { computerId: string; commandId: string }[] = [];
    for (const id of targets) {
      const c = await ctx.store.commands.enqueue(id, 'firewall.block', {
        address: ctx.attacker,
        seconds: a.durationSeconds,
        reason: `playbook ${ctx.playbook.name}`,
      });
      commands.push({ computerId: id, commandId: c.id });
      ctx.notify(id);
    }
    return {
      status: 'succeeded',
      inputs: { attacker: ctx.attacker, targets: a.targets, durationSeconds: a.durationSeconds },
      result: { address: ctx.attacker, commands },
      undoable: true,
      expiresAt: new Date(ctx.now.getTime() + a.durationSeconds * 1000).toISOString(),
    };
  },

  async undo(deps: ActionDeps, rec: PlaybookActionRecord, reason) {
    const r = rec.result as { address: string; commands: { computerId: string }[] };
    // The agents drop the block themselves when it expires: only an early undo sends anything.
    if (reason === 'expiry') return { expiredOnAgents: true };
    const commands: { computerId: string; commandId: string }[] = [];
    for (const { computerId } of r.commands) {
      const c = await deps.store.commands.enqueue(computerId, 'firewall.unblock', { address: r.address });
      commands.push({ computerId, commandId: c.id });
      deps.notify(computerId);
    }
    return { commands };
  },
};
