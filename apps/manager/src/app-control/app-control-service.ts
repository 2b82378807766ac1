import { type AppControlRule, loadRuleset, normalizeSha256, type Ruleset } from '@palisade/app-control';
import type { EffectiveConfig } from '@palisade/protocol';
import { computeEffectiveConfig } from '../config/effective-config.ts';
import type { PolicySettings } from '../config/policy-settings-schema.ts';
import {
  AppControlRepository,
  type DriftDecision,
  type DriftReport,
  localRulesetId,
  type StoredRuleset,
} from '../store/app-control-repository.ts';
import { type Clock, systemClock } from '../store/json-column.ts';
import { StoreError } from '../store/store-error.ts';
import type { TenantStore } from '../store/tenant-store.ts';

const MODULE = 'app-control';
/** The policy setting that assigns shared rulesets by id: `modules.app-control.settings.sharedRulesets`. */
export const SHARED_RULESETS_SETTING = 'sharedRulesets';

const repos = new WeakMap<TenantStore, AppControlRepository>();

/** The tenant's application-control rows (one repository per open tenant store). */
export function appControlOf(store: TenantStore, clock: Clock = systemClock): AppControlRepository {
  let r = repos.get(store);
  if (!r) {
    r = new AppControlRepository(store.db, clock);
    repos.set(store, r);
  }
  return r;
}

interface TenantRules {
  expires: number;
  shared: Map<string, Ruleset>;
  local: Map<string, Ruleset>;
  globalBlock: string[];
}

/*
 * Every heartbeat computes the agent's effective configuration, so the rulesets are read once
 * per tenant and kept briefly: a change through this node clears them at once, a change made on
 * another node is seen within TTL_MS (well inside the two heartbeats a change may take).
 */
const TTL_MS = 2000;
const cache = new WeakMap<TenantStore, TenantRules>();

export function invalidateAppControl(store: TenantStore): void {
  cache.delete(store);
}

async function tenantRules(store: TenantStore): Promise<TenantRules> {
  const now = Date.now();
  const hit = cache.get(store);
  if (hit && hit.expires > now) return hit;
  const repo = appControlOf(store);
  const [all, globalBlock] = await Promise.all([repo.listRulesets(), repo.listGlobalBlock()]);
  const shared = new Map<string, Ruleset>();
  const local = new Map<string, Ruleset>();
  for (const r of all) {
    const plain: Ruleset = { id: r.id, name: r.name, scope: r.scope, rules: r.rules };
    if (r.scope === 'local' && r.computerId) local.set(r.computerId, plain);
    else shared.set(r.id, plain);
  }
  const entry = { expires: now + TTL_MS, shared, local, globalBlock: globalBlock.map((g) => g.sha256) };
  cache.set(store, entry);
  return entry;
}

function refsOf(settings: Record<string, unknown> | undefined): string[] {
  const v = settings?.[SHARED_RULESETS_SETTING];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Fills the application-control part of an agent's effective configuration from the manager's
 * rulesets: the shared rulesets its policy assigns (`sharedRulesets: [id, …]`, replaced by the
 * rulesets themselves), its own local ruleset, and the tenant's global block list. A missing
 * assigned ruleset is passed on as `unresolvedRulesets`, which the agent refuses as a whole:
 * a typo must not silently drop a block list.
 */
export async function expandAppControlConfig(store: TenantStore, computerId: string | undefined, config: EffectiveConfig): Promise<void> {
  const mod = config.modules[MODULE];
  if (!mod) return;
  const settings = { ...mod.settings };
  const refs = refsOf(settings);
  delete settings[SHARED_RULESETS_SETTING];
  if (!mod.enabled || mod.mode === 'off') {
    mod.settings = settings;
    return;
  }
  const t = await tenantRules(store);
  const inline = Array.isArray(settings.rulesets) ? (settings.rulesets as unknown[]) : [];
  const resolved: Ruleset[] = [];
  const unresolved: string[] = [];
  for (const id of [...new Set(refs)]) {
    const r = t.shared.get(id);
    if (r) resolved.push(r);
    else unresolved.push(id);
  }
  const local = computerId ? t.local.get(computerId) : undefined;
  const rulesets = [...inline, ...resolved, ...(local && local.rules.length > 0 ? [local] : [])];
  if (rulesets.length > 0) settings.rulesets = rulesets;
  const policyBlock = Array.isArray(settings.globalBlock) ? (settings.globalBlock as unknown[]) : [];
  if (t.globalBlock.length > 0) settings.globalBlock = [...new Set([...policyBlock, ...t.globalBlock])];
  if (unresolved.length > 0) settings.unresolvedRulesets = unresolved;
  mod.settings = settings;
}

/** The shared ruleset ids a policy chain (plus a computer's overrides) assigns. */
function assignedBy(chain: readonly PolicySettings[], overrides: PolicySettings): string[] {
  return refsOf(computeEffectiveConfig(chain, overrides).modules[MODULE]?.settings);
}

/** Computers whose configuration includes the shared ruleset, and the policies that name it. */
export async function rulesetUsers(store: TenantStore, rulesetId: string): Promise<{ computers: string[]; policies: string[] }> {
  const policies = (await store.policies.list())
    .filter((p) => refsOf(p.settings.modules?.[MODULE]?.settings).includes(rulesetId))
    .map((p) => p.id);
  const chains = new Map<string, PolicySettings[]>();
  const computers: string[] = [];
  for (const c of await store.computers.list()) {
    let chain: PolicySettings[] = [];
    if (c.policyId) {
      chain = chains.get(c.policyId) ?? (await store.policies.chain(c.policyId)).map((p) => p.settings);
      chains.set(c.policyId, chain);
    }
    if (assignedBy(chain, c.overrides).includes(rulesetId)) computers.push(c.id);
  }
  return { computers, policies };
}

export class RulesetInvalid extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** Validates rules the way the agent will (all-or-nothing); the first problem is the error. */
export function validateRules(id: string, name: string, rules: unknown[]): AppControlRule[] {
  const r = loadRuleset({ id, name, scope: 'shared', rules }, 'ruleset');
  if (!r.ok) {
    const d = r.diagnostics.find((x) => x.severity === 'error') ?? r.diagnostics[0]!;
    const m = /rules\[(\d+)\]/.exec(d.file ?? '');
    throw new RulesetInvalid(`${d.code}: ${d.message}`, m ? `/rules/${m[1]}` : '/id');
  }
  return r.value.rules;
}

/**
 * Adds rules to a rule list. A hash rule replaces an earlier rule for the same hash (a review
 * that first allowed and later blocks a binary changes its decision), other rules are appended
 * unless the same one exists.
 */
export function mergeRules(existing: readonly AppControlRule[], added: readonly AppControlRule[]): AppControlRule[] {
  const out = [...existing];
  for (const r of added) {
    if (r.kind === 'hash') {
      const i = out.findIndex((x) => x.kind === 'hash' && x.sha256 === r.sha256);
      if (i >= 0) out[i] = r;
      else out.push(r);
      continue;
    }
    const same = out.some((x) => JSON.stringify({ ...x, description: undefined }) === JSON.stringify({ ...r, description: undefined }));
    if (!same) out.push(r);
  }
  return out;
}

export interface HashDecisionInput {
  sha256: string;
  action: 'allow' | 'block';
  /** One computer: its local ruleset. */
  computerId?: string;
  /** A shared ruleset (its id). */
  rulesetId?: string;
  description?: string;
}

/**
 * Allows or blocks content for one computer (its local ruleset, created on first use) or in a
 * shared ruleset; closes the matching open drift. The agents see it in their next
 * configuration (their heartbeat tells them the configuration changed).
 */
export async function decideHash(
  store: TenantStore,
  input: HashDecisionInput,
  actor: string,
): Promise<{ ruleset: StoredRuleset; decision: DriftDecision; driftClosed: number }> {
  const sha256 = normalizeSha256(input.sha256);
  if (!sha256) throw new RulesetInvalid(`${input.sha256} is not a SHA-256 (64 hex digits)`, '/sha256');
  if (Boolean(input.computerId) === Boolean(input.rulesetId)) {
    throw new RulesetInvalid('give either computerId (this computer only) or rulesetId (a shared ruleset)', '/computerId');
  }
  const repo = appControlOf(store);
  const rule: AppControlRule = {
    kind: 'hash',
    sha256,
    action: input.action,
    ...(input.description ? { description: input.description } : {}),
  };
  let ruleset: StoredRuleset;
  let computers: string[];
  if (input.computerId) {
    const c = await store.computers.get(input.computerId);
    if (!c) throw new StoreError('STORE_NOT_FOUND', `no computer ${input.computerId}`, 'computerId');
    ruleset = await repo.updateRules(localRulesetId(c.id), (rules) => mergeRules(rules, [rule]), { computerId: c.id });
    computers = [c.id];
  } else {
    const id = input.rulesetId!;
    const found = await repo.getRuleset(id);
    if (!found || found.scope !== 'shared') throw new StoreError('STORE_NOT_FOUND', `no shared ruleset ${id}`, 'rulesetId');
    ruleset = await repo.updateRules(id, (rules) => mergeRules(rules, [rule]));
    computers = (await rulesetUsers(store, id)).computers;
  }
  invalidateAppControl(store);
  const decision: DriftDecision = { action: input.action, scope: input.computerId ? 'computer' : 'ruleset', rulesetId: ruleset.id };
  const driftClosed = await repo.markReviewed(sha256, decision, actor, computers);
  return { ruleset, decision, driftClosed };
}

/** Re-reads this much before the newest report taken: reports committed late by another node still count. */
const INTAKE_MARGIN_MS = 60_000;
const INTAKE_BATCH = 500;

/**
 * Drift intake: the agents report drift as events (`app-control.drift`, `app-control.blocked`);
 * this turns the new ones into drift records. Idempotent (by event id), so it runs on a timer on
 * every manager node and before every drift query without counting anything twice.
 */
export async function syncDrift(store: TenantStore): Promise<number> {
  const repo = appControlOf(store);
  const db = store.db;
  const last = await repo.lastIntake();
  let since = last ? new Date(Date.parse(last) - INTAKE_MARGIN_MS).toISOString() : '';
  let after = '';
  let total = 0;
  for (;;) {
    const rows = await db
      .selectFrom('events')
      .select(['id', 'computer_id', 'type', 'time', 'received_at', 'details'])
      .where('module', '=', MODULE)
      .where('type', 'in', ['app-control.drift', 'app-control.blocked'])
      .where((eb) => eb.or([eb('received_at', '>', since), eb.and([eb('received_at', '=', since), eb('id', '>', after)])]))
      .orderBy('received_at')
      .orderBy('id')
      .limit(INTAKE_BATCH)
      .execute();
    if (rows.length === 0) break;
    const reports: DriftReport[] = rows.map((r) => ({
      eventId: r.id,
      computerId: r.computer_id,
      type: r.type,
      time: r.time,
      receivedAt: r.received_at,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : {},
    }));
    total += await repo.ingestReports(reports);
    const tail = rows[rows.length - 1]!;
    since = tail.received_at;
    after = tail.id;
    if (rows.length < INTAKE_BATCH) break;
  }
  if (last) await repo.pruneIntake(new Date(Date.parse(last) - 24 * 3600_000).toISOString());
  return total;
}
