import type { CloudConnector } from '../cloud/cloud-connector.ts';
import { redactAws } from '../cloud/cloud-connector.ts';
import type { Computer } from '../store/computer-repository.ts';
import { newId } from '../store/secrets.ts';
import type { StoreProvider } from '../store/store-provider.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { type ActionDeps, type ActionHandler, ActionSkipped, type TriggerContext } from './action-context.ts';
import { attackerAddressOf, blockRefusal } from './attacker-address.ts';
import { eventMatches, type PlaybookEvent } from './event-filter.ts';
import { firewallBlockAction } from './firewall-block-action.ts';
import { isolateInstanceAction } from './isolate-instance-action.ts';
import type { Playbook, PlaybookActionRecord, PlaybookActionType } from './playbook-schema.ts';
import { runScanAction } from './run-scan-action.ts';
import { wafBlockAction } from './waf-block-action.ts';
import { webhookAction } from './webhook-action.ts';

const HANDLERS: Record<PlaybookActionType, ActionHandler<never>> = {
  'aws-waf-block-ip': wafBlockAction as ActionHandler<never>,
  'firewall-block-ip': firewallBlockAction as ActionHandler<never>,
  'aws-isolate-instance': isolateInstanceAction as ActionHandler<never>,
  webhook: webhookAction as ActionHandler<never>,
  'run-scan': runScanAction as ActionHandler<never>,
};

/** Actions that block an address: the allow-list applies to them. */
const BLOCKING = new Set<string>(['aws-waf-block-ip', 'firewall-block-ip']);

export class PlaybookError extends Error {
  constructor(
    readonly code: 'PLAYBOOK_NOT_UNDOABLE' | 'PLAYBOOK_ACTION_NOT_FOUND',
    message: string,
  ) {
    super(message);
  }
}

export interface PlaybookEngineOptions {
  connector?: CloudConnector;
  notify(computerId: string): void;
  clock?: () => Date;
  log?: { error(obj: object, msg: string): void };
  fetch?: typeof fetch;
}

/**
 * Evaluates playbooks against stored events, off the ingest path: the events route hands the
 * batch over and answers the agent at once; evaluation runs on a queue behind it. Counting is in
 * the database (one hit per playbook and event id, so a re-sent batch never counts twice), so the
 * threshold holds across manager nodes; so do the once-per-key rule and the rate limit.
 */
export class PlaybookEngine {
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly opts: PlaybookEngineOptions) {}

  private now(): Date {
    return this.opts.clock?.() ?? new Date();
  }

  private deps(store: TenantStore): ActionDeps {
    return {
      store,
      connector: this.opts.connector,
      notify: this.opts.notify,
      now: this.now(),
      ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
    };
  }

  /** Called after a batch is stored; returns at once. */
  onEventsStored(store: TenantStore, computerId: string, events: readonly Omit<PlaybookEvent, 'computerId'>[]): void {
    this.queue = this.queue
      .then(() => this.evaluate(store, computerId, events))
      .catch((err) => this.opts.log?.error({ err, tenantId: store.tenantId }, 'playbook evaluation failed'));
  }

  /** Resolves once everything queued so far has been evaluated (tests, shutdown). */
  async idle(): Promise<void> {
    let q: Promise<void>;
    do {
      q = this.queue;
      await q;
    } while (q !== this.queue);
  }

  /**
   * Per playbook and batch: the matching events' hits go in with one statement, their keys are
   * counted with one more, and only keys at the threshold are looked at further; a batch that
   * matches nothing costs one query for the playbook list.
   */
  async evaluate(store: TenantStore, computerId: string, events: readonly Omit<PlaybookEvent, 'computerId'>[]): Promise<void> {
    const playbooks = await store.playbooks.listEnabled();
    if (playbooks.length === 0) return;
    const computer = await store.computers.get(computerId);
    for (const pb of playbooks) {
      const hits: { event: PlaybookEvent; attacker: string | undefined; key: string }[] = [];
      for (const raw of events) {
        const e: PlaybookEvent = { ...raw, computerId };
        if (!eventMatches(pb.trigger.filter, e, computer?.tags ?? {})) continue;
        const attacker = attackerAddressOf(e);
        const key = pb.trigger.groupBy === 'computer' ? `computer:${computerId}` : attacker ? `ip:${attacker}` : undefined;
        if (key) hits.push({ event: e, attacker, key });
      }
      if (hits.length === 0) continue;
      const now = this.now();
      const fresh = await store.playbooks.recordHits(
        pb.id,
        hits.map((h) => ({ eventId: h.event.id, triggerKey: h.key })),
        now.toISOString(),
      );
      // The last new event of each key is the one that crossed the threshold.
      const lastOfKey = new Map<string, (typeof hits)[number]>();
      for (const h of hits) if (fresh.has(h.event.id)) lastOfKey.set(h.key, h);
      if (lastOfKey.size === 0) continue;
      const since = new Date(now.getTime() - pb.trigger.windowSeconds * 1000).toISOString();
      const counts = await store.playbooks.countHits(pb.id, [...lastOfKey.keys()], since);
      for (const [key, h] of lastOfKey) {
        if ((counts.get(key) ?? 0) < pb.trigger.threshold) continue;
        // Once per key and window, and not again while an earlier response is still in force.
        if ((await store.playbooks.firedSince(pb.id, key, since)) || (await store.playbooks.activeFor(pb.id, key))) continue;
        await this.fire(store, pb, key, h.attacker, h.event, computer, await store.playbooks.hitsSince(pb.id, key, since));
      }
    }
  }

  private async fire(
    store: TenantStore,
    pb: Playbook,
    triggerKey: string,
    attacker: string | undefined,
    event: PlaybookEvent,
    computer: Computer | undefined,
    eventIds: string[],
  ): Promise<void> {
    const runId = newId();
    const base = { playbookId: pb.id, runId, triggerKey, computerId: computer?.id ?? null, eventIds, expiresAt: null, undoable: false };
    const now = this.now();
    const runs = await store.playbooks.runsSince(pb.id, new Date(now.getTime() - 3600_000).toISOString());
    if (runs >= pb.safeguards.maxRunsPerHour) {
      await store.playbooks.recordAction({
        ...base,
        actionIndex: 0,
        actionType: 'none',
        status: 'rate-limited',
        inputs: { attacker: attacker ?? null },
        result: {},
        error: `rate limit: ${runs} runs in the last hour (maximum ${pb.safeguards.maxRunsPerHour})`,
      });
      await store.audit.record(`playbook:${pb.id}`, 'playbook.rate-limited', `playbook:${pb.id}`, { triggerKey });
      return;
    }
    let refusal: string | undefined;
    if (attacker && pb.actions.some((a) => BLOCKING.has(a.type))) {
      const protectedIps = new Set((await store.computers.list()).flatMap((c) => c.ips));
      refusal = blockRefusal(attacker, pb.safeguards.allowList, protectedIps);
    }
    const secrets = await store.playbooks.secrets(pb.id);
    const outcomes: string[] = [];
    for (const [i, action] of pb.actions.entries()) {
      const ctx: TriggerContext = {
        ...this.deps(store),
        playbook: pb,
        runId,
        triggerKey,
        attacker,
        event,
        computer,
        eventIds,
        secrets,
        actionIndex: i,
      };
      const rec = { ...base, actionIndex: i, actionType: action.type };
      if (refusal && BLOCKING.has(action.type)) {
        await store.playbooks.recordAction({ ...rec, status: 'skipped', inputs: { attacker }, result: {}, error: `safeguard: ${refusal}` });
        outcomes.push('skipped');
        continue;
      }
      try {
        const out = await HANDLERS[action.type].run(ctx, action as never);
        await store.playbooks.recordAction({ ...rec, ...out, error: null });
        outcomes.push(out.status);
      } catch (err) {
        const skipped = err instanceof ActionSkipped;
        const message = redactAws(skipped ? (err as Error).message : `${(err as Error).name}: ${(err as Error).message}`);
        await store.playbooks.recordAction({
          ...rec,
          status: skipped ? 'skipped' : 'failed',
          inputs: { attacker: attacker ?? null },
          result: {},
          error: message,
        });
        outcomes.push(skipped ? 'skipped' : 'failed');
      }
    }
    await store.audit.record(`playbook:${pb.id}`, 'playbook.run', computer ? `computer:${computer.id}` : `playbook:${pb.id}`, {
      playbook: pb.name,
      runId,
      triggerKey,
      outcomes,
    });
  }

  /** Reverses one recorded action (an operator's undo). */
  async undo(store: TenantStore, actionId: string, actor: string): Promise<PlaybookActionRecord> {
    const rec = await store.playbooks.action(actionId);
    if (!rec) throw new PlaybookError('PLAYBOOK_ACTION_NOT_FOUND', `no playbook action ${actionId}`);
    if (!rec.undoable || !(rec.status === 'succeeded' || rec.status === 'undo-failed'))
      throw new PlaybookError('PLAYBOOK_NOT_UNDOABLE', `action ${actionId} (${rec.actionType}, ${rec.status}) cannot be undone`);
    if (!(await store.playbooks.claimUndo(rec.id, ['succeeded', 'undo-failed'])))
      throw new PlaybookError('PLAYBOOK_NOT_UNDOABLE', `action ${actionId} is being undone or expired meanwhile`);
    const out = await this.reverse(store, rec, 'undo');
    await store.audit.record(actor, 'playbook.undo', `playbook-action:${rec.id}`, { status: out.status, actionType: rec.actionType });
    return out;
  }

  private async reverse(store: TenantStore, rec: PlaybookActionRecord, reason: 'undo' | 'expiry'): Promise<PlaybookActionRecord> {
    const handler = HANDLERS[rec.actionType as PlaybookActionType];
    try {
      const result = await handler.undo!(this.deps(store), rec, reason);
      return await store.playbooks.finishUndo(rec.id, reason === 'undo' ? 'undone' : 'expired', result);
    } catch (err) {
      return store.playbooks.finishUndo(rec.id, 'undo-failed', {
        error: redactAws(`${(err as Error).name}: ${(err as Error).message}`),
        reason,
      });
    }
  }

  /** Reverses expired blocks of one tenant; claims each first, so one node does each. */
  async sweepExpired(store: TenantStore): Promise<number> {
    let n = 0;
    for (const rec of await store.playbooks.dueExpiries(this.now().toISOString())) {
      if (!(await store.playbooks.claimUndo(rec.id, ['succeeded']))) continue;
      await this.reverse(store, rec, 'expiry');
      n++;
    }
    await store.playbooks.pruneHits(new Date(this.now().getTime() - 2 * 86_400_000).toISOString());
    return n;
  }

  /** Sweeps every tenant every `intervalMs` until stopped. */
  start(stores: StoreProvider, intervalMs = 30_000): void {
    const tick = async () => {
      for (const t of await stores.listTenants()) {
        const store = await stores.tenant(t.id);
        if (store) await this.sweepExpired(store);
      }
    };
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = tick()
        .catch((err) => this.opts.log?.error({ err }, 'playbook expiry sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    await this.idle();
  }
}
