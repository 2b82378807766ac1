import type { Diagnostic, LoadResult } from '@palisade/diagnostics';
import { loadResult } from '@palisade/diagnostics';
import type { AppControlRule, Ruleset } from './app-control-rule.ts';

const SHA256 = /^[0-9a-f]{64}$/;

function err(code: string, message: string, file: string): Diagnostic {
  return { code, message, severity: 'error', file };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Normalises a SHA-256 written in any case; undefined when it is not one. */
export function normalizeSha256(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const h = v.trim().toLowerCase();
  return SHA256.test(h) ? h : undefined;
}

function loadRule(raw: unknown, where: string, out: Diagnostic[]): AppControlRule | undefined {
  if (!isRecord(raw)) {
    out.push(err('APPCTL_RULE_INVALID', 'a rule must be an object', where));
    return undefined;
  }
  const action = raw.action;
  if (action !== 'allow' && action !== 'block') {
    out.push(err('APPCTL_RULE_INVALID', `action must be "allow" or "block", got ${JSON.stringify(action)}`, where));
    return undefined;
  }
  const description = typeof raw.description === 'string' ? { description: raw.description } : {};
  switch (raw.kind) {
    case 'hash': {
      const sha256 = normalizeSha256(raw.sha256);
      if (!sha256) {
        out.push(err('APPCTL_BAD_HASH', `sha256 must be 64 hex digits, got ${JSON.stringify(raw.sha256)}`, where));
        return undefined;
      }
      return { kind: 'hash', sha256, action, ...description };
    }
    case 'path': {
      const p = raw.pattern;
      if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) {
        out.push(err('APPCTL_BAD_PATH', `pattern must be an absolute path pattern, got ${JSON.stringify(p)}`, where));
        return undefined;
      }
      return { kind: 'path', pattern: p, action, ...description };
    }
    case 'package': {
      const m = raw.manager;
      if (m !== undefined && m !== 'dpkg' && m !== 'rpm') {
        out.push(err('APPCTL_RULE_INVALID', `manager must be "dpkg" or "rpm", got ${JSON.stringify(m)}`, where));
        return undefined;
      }
      if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name === '')) {
        out.push(err('APPCTL_RULE_INVALID', 'name must be a non-empty package name pattern', where));
        return undefined;
      }
      return {
        kind: 'package',
        action,
        ...(m ? { manager: m } : {}),
        ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
        ...description,
      };
    }
    default:
      out.push(err('APPCTL_RULE_INVALID', `kind must be "hash", "path" or "package", got ${JSON.stringify(raw.kind)}`, where));
      return undefined;
  }
}

/**
 * Validates one ruleset as it arrives in a policy (`{ id, name, scope, rules: [...] }`).
 * All-or-nothing: one bad rule refuses the ruleset, so a typo never silently narrows a block list.
 * The same hash both allowed and blocked in one ruleset is refused too: which one was meant?
 */
export function loadRuleset(raw: unknown, file = 'ruleset'): LoadResult<Ruleset> {
  const diagnostics: Diagnostic[] = [];
  if (!isRecord(raw)) return { ok: false, diagnostics: [err('APPCTL_RULESET_INVALID', 'a ruleset must be an object', file)] };
  const id = raw.id;
  if (typeof id !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(id)) {
    diagnostics.push(err('APPCTL_RULESET_INVALID', 'id must be 1-100 characters of A-Z a-z 0-9 . _ : -', file));
  }
  const scope = raw.scope ?? 'shared';
  if (scope !== 'shared' && scope !== 'local') diagnostics.push(err('APPCTL_RULESET_INVALID', 'scope must be "shared" or "local"', file));
  if (!Array.isArray(raw.rules)) diagnostics.push(err('APPCTL_RULESET_INVALID', 'rules must be an array', file));
  const rules: AppControlRule[] = [];
  const hashActions = new Map<string, string>();
  (Array.isArray(raw.rules) ? raw.rules : []).forEach((r, i) => {
    const rule = loadRule(r, `${file}.rules[${i}]`, diagnostics);
    if (!rule) return;
    if (rule.kind === 'hash') {
      const seen = hashActions.get(rule.sha256);
      if (seen && seen !== rule.action) {
        diagnostics.push(err('APPCTL_RULE_CONFLICT', `sha256 ${rule.sha256} is both allowed and blocked`, `${file}.rules[${i}]`));
      }
      hashActions.set(rule.sha256, rule.action);
    }
    rules.push(rule);
  });
  const value: Ruleset = {
    id: typeof id === 'string' ? id : '',
    name: typeof raw.name === 'string' ? raw.name : String(id),
    scope: scope === 'local' ? 'local' : 'shared',
    rules,
  };
  return loadResult(value, diagnostics);
}
