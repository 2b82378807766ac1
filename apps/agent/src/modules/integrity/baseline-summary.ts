import type { Entity } from '@palisade/integrity';
import type { IntegrityBaselineSummary } from '@palisade/protocol';
import { AgentError } from '../../agent-error.ts';

/**
 * The baseline as the manager sees it (heartbeat `modules.integrity.details.baseline`, shown by
 * `GET /api/v1/computers/{id}` and `palisade fim status`): what it holds, when it was built, how
 * the last full scan went, and how many reported changes nobody has accepted yet. The shape is
 * the protocol's, which the manager and api-client share.
 */
export type BaselineSummary = IntegrityBaselineSummary;

export function summarize(entities: Iterable<Entity>): BaselineSummary['counts'] {
  const byKind: Record<string, number> = {};
  const byRule: Record<string, number> = {};
  let n = 0;
  for (const e of entities) {
    n++;
    byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
    byRule[e.rule] = (byRule[e.rule] ?? 0) + 1;
  }
  return { entities: n, byKind, byRule };
}

const MAX_ITEMS = 10_000;

/** Arguments of `integrity.accept`: `eventIds` and/or `paths` (absolute), or `all: true`. */
export function acceptArgs(args: Record<string, unknown>): { eventIds: string[]; paths: string[]; all: boolean } {
  const list = (name: string): string[] => {
    const v = args[name];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > MAX_ITEMS || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 4096))
      throw new AgentError('FIM_BAD_PARAMETER', `parameter "${name}" must be a list of at most ${MAX_ITEMS} non-empty strings`);
    return v as string[];
  };
  const eventIds = list('eventIds');
  const paths = list('paths');
  for (const p of paths) {
    if (!p.startsWith('/') || /\/\.\.?(\/|$)/.test(p))
      throw new AgentError('FIM_BAD_PARAMETER', `parameter "paths": ${p} is not an absolute path without . or .. segments`);
  }
  if (args.all !== undefined && typeof args.all !== 'boolean')
    throw new AgentError('FIM_BAD_PARAMETER', 'parameter "all" must be true or false');
  const all = args.all === true;
  if (!all && eventIds.length === 0 && paths.length === 0) throw new AgentError('FIM_BAD_PARAMETER', 'give eventIds, paths or all: true');
  return { eventIds, paths: paths.map((p) => (p.length > 1 ? p.replace(/\/+$/, '') : p)), all };
}
