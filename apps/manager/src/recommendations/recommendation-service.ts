import { computeManagerSettings } from '../config/effective-config.ts';
import type { RuleAssignment } from '../store/computer-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import type { AdvisoryIndexCache } from './advisory-index-cache.ts';
import { computeRecommendations, type RecommendationResult } from './compute-recommendations.ts';
import type { RuleCatalog } from './rule-catalog.ts';

export interface ScanOutcome extends RecommendationResult {
  computerId: string;
  scannedAt: string;
  mode: 'off' | 'report' | 'auto';
  inventoryCollectedAt: string | null;
  /** True when the diff was applied (policy `auto`, or an explicit apply). */
  applied: boolean;
}

export type ApplyChoice = 'by-policy' | 'dry-run' | 'apply';

/**
 * Runs a recommendation scan for one computer: its latest inventory against the vulnerability
 * data and the rule catalog. The result is stored; the diff is applied when the policy says
 * `auto` or the caller asks, and every assignment change is audited with its reason.
 */
export class RecommendationService {
  constructor(
    private readonly advisories: AdvisoryIndexCache,
    private readonly catalog: RuleCatalog,
  ) {}

  async scan(store: TenantStore, computerId: string, choice: ApplyChoice, actor: string): Promise<ScanOutcome> {
    const computer = await store.computers.require(computerId);
    const chain = computer.policyId ? (await store.policies.chain(computer.policyId)).map((p) => p.settings) : [];
    const { recommendations: mode } = computeManagerSettings(chain, computer.overrides);
    const inventory = await store.inventory.get(computerId);
    const result = computeRecommendations(
      inventory?.inventory.items ?? [],
      await this.advisories.current(),
      this.catalog,
      computer.ruleAssignments,
      { ports: inventory?.inventory.ports ?? [], processes: inventory?.inventory.processes ?? [] },
    );
    const apply = choice === 'apply' || (choice === 'by-policy' && mode === 'auto');
    const outcome: ScanOutcome = {
      computerId,
      scannedAt: new Date().toISOString(),
      mode,
      inventoryCollectedAt: inventory?.collectedAt ?? null,
      applied: false,
      ...result,
    };
    if (choice !== 'dry-run') await store.inventory.saveScan(computerId, outcome);
    if (apply && (result.diff.assign.length || result.diff.unassign.length)) {
      await this.applyDiff(store, computerId, computer.ruleAssignments, result, actor, inventory?.inventory.items ?? []);
      outcome.applied = true;
      await store.inventory.saveScan(computerId, outcome);
    }
    return outcome;
  }

  private async applyDiff(
    store: TenantStore,
    computerId: string,
    current: RuleAssignment[],
    result: RecommendationResult,
    actor: string,
    items: ReadonlyArray<{ name: string; version: string; location: string }>,
  ): Promise<void> {
    const now = new Date().toISOString();
    const removed = new Set(result.diff.unassign.map((u) => `${u.module}/${u.ruleId}`));
    const next: RuleAssignment[] = [
      ...current.filter((a) => !removed.has(`${a.module}/${a.ruleId}`)),
      ...result.diff.assign.map((r) => ({
        module: r.module,
        ruleId: r.ruleId,
        source: 'recommendation' as const,
        assignedAt: now,
        reason: { cves: r.cves, reasons: r.reasons },
      })),
    ];
    await store.computers.update(computerId, { ruleAssignments: next });
    for (const r of result.diff.assign) {
      await store.audit.record(actor, 'rule.assign', `computer:${computerId}`, {
        module: r.module,
        ruleId: r.ruleId,
        title: r.title,
        cves: r.cves,
        reasons: r.reasons,
      });
    }
    for (const u of result.diff.unassign) {
      const before = current.find((a) => a.module === u.module && a.ruleId === u.ruleId);
      const was = ((before?.reason as { reasons?: Array<{ package: string; version: string; location: string }> })?.reasons ?? []).map(
        (r) => ({
          package: r.package,
          location: r.location,
          versionBefore: r.version,
          versionAfter: items.find((i) => i.name === r.package && i.location === r.location)?.version ?? null,
        }),
      );
      await store.audit.record(actor, 'rule.unassign', `computer:${computerId}`, {
        module: u.module,
        ruleId: u.ruleId,
        reason: u.reason,
        packages: was,
      });
    }
  }
}
