import { parse } from 'yaml';
import type { ReplayRequest } from './replay-request.ts';

/** One request of a template, and whether the template expects the WAF to block it. */
export interface NucleiStep {
  request: ReplayRequest;
  expectBlocked: boolean;
}

export interface NucleiTemplate {
  id: string;
  steps: NucleiStep[];
}

/**
 * Placeholders are filled deterministically (no randomness) so a replay is reproducible: random
 * helpers give fixed strings of the asked length.
 */
function fill(s: string, vars: Map<string, string>, host: string): string {
  return s.replace(/\{\{([^{}]*)\}\}/g, (whole, exprRaw: string) => {
    const v = evalExpr(exprRaw.trim(), vars, host);
    return v ?? whole;
  });
}

function evalExpr(expr: string, vars: Map<string, string>, host: string): string | undefined {
  if (expr === 'Hostname' || expr === 'Host') return host;
  if (expr === 'BaseURL' || expr === 'RootURL') return `http://${host}`;
  if (expr === 'randstr') return 'pls7q2xk4v';
  const known = vars.get(expr);
  if (known !== undefined) return known;
  const call = /^([a-z_0-9]+)\((.*)\)$/i.exec(expr);
  if (!call) return undefined;
  const [, fn, argsRaw = ''] = call;
  const args = splitArgs(argsRaw).map((a) => {
    const q = /^(['"])(.*)\1$/s.exec(a);
    if (q) return q[2]!;
    return evalExpr(a, vars, host) ?? a;
  });
  const n = Number(args[0] ?? 8);
  switch (fn) {
    case 'rand_base':
    case 'rand_text_alphanumeric':
    case 'rand_text_alpha':
      return 'k'.repeat(Number.isFinite(n) ? n : 8);
    case 'rand_int':
      return String(args[0] ?? '100000');
    case 'base64':
      return Buffer.from(args[0] ?? '', 'latin1').toString('base64');
    case 'base64_decode':
      return Buffer.from(args[0] ?? '', 'base64').toString('latin1');
    case 'to_lower':
      return (args[0] ?? '').toLowerCase();
    case 'to_upper':
      return (args[0] ?? '').toUpperCase();
    case 'hex_decode':
      return Buffer.from(args[0] ?? '', 'hex').toString('latin1');
    case 'url_encode':
      return encodeURIComponent(args[0] ?? '');
    default:
      return undefined;
  }
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of s) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === '(') {
      depth++;
      cur += ch;
    } else if (ch === ')') {
      depth--;
      cur += ch;
    } else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function pathOf(target: string, host: string): string {
  const base = `http://${host}`;
  let p = target.startsWith(base) ? target.slice(base.length) : target;
  if (!p.startsWith('/')) p = `/${p}`;
  return p;
}

function parseRaw(raw: string, vars: Map<string, string>, host: string): ReplayRequest | undefined {
  const text = fill(raw, vars, host).replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  while (lines.length && (lines[0]!.trim() === '' || lines[0]!.trim().startsWith('@'))) lines.shift();
  const first = lines.shift();
  if (!first) return undefined;
  const m = /^(\S+)\s+(\S+)(?:\s+HTTP\/[\d.]+)?\s*$/.exec(first.trim());
  if (!m) return undefined;
  const headers: [string, string][] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '') break;
    const c = l.indexOf(':');
    if (c > 0) headers.push([l.slice(0, c).trim(), l.slice(c + 1).trim()]);
  }
  let body = lines.slice(i + 1).join('\r\n');
  // YAML block scalars end with a newline that is not part of the request.
  body = body.replace(/(?:\r\n)+$/, '');
  return { method: m[1]!, uri: pathOf(m[2]!, host), headers: headers.filter(([k]) => k.toLowerCase() !== 'content-length'), body };
}

/** Which request indexes (1-based) the matchers expect to be blocked; undefined = all of them. */
function expectations(matchers: unknown): Map<number, boolean> | undefined {
  if (!Array.isArray(matchers)) return undefined;
  const out = new Map<number, boolean>();
  for (const m of matchers as Record<string, unknown>[]) {
    if (m?.type !== 'dsl' || !Array.isArray(m.dsl)) continue;
    for (const e of m.dsl as string[]) {
      const x = /status_code_(\d+)\s*(==|!=)\s*(\d+)/.exec(String(e));
      if (x) out.set(Number(x[1]), (x[2] === '==') === (x[3] === '403'));
    }
  }
  return out.size ? out : undefined;
}

/** Parses a Nuclei HTTP template into concrete requests against `host` (e.g. `127.0.0.1:8080`). */
export function parseNucleiTemplate(text: string, host: string): NucleiTemplate {
  const doc = parse(text) as Record<string, unknown>;
  const vars = new Map<string, string>();
  const rawVars = (doc.variables ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(rawVars)) vars.set(k, fill(String(v), vars, host));
  const steps: NucleiStep[] = [];
  const blocks = (doc.http ?? doc.requests ?? []) as Record<string, unknown>[];
  for (const b of blocks) {
    const reqs: ReplayRequest[] = [];
    const payloadSets: Map<string, string>[] = [];
    const payloads = (b.payloads ?? {}) as Record<string, unknown>;
    const keys = Object.keys(payloads);
    const width = Math.max(1, ...keys.map((k) => (Array.isArray(payloads[k]) ? (payloads[k] as unknown[]).length : 1)));
    for (let i = 0; i < (keys.length ? width : 1); i++) {
      const m = new Map(vars);
      for (const k of keys) {
        const list = Array.isArray(payloads[k]) ? (payloads[k] as unknown[]) : [payloads[k]];
        m.set(k, String(list[Math.min(i, list.length - 1)]));
      }
      payloadSets.push(m);
    }
    for (const pv of payloadSets) {
      if (Array.isArray(b.raw)) {
        for (const r of b.raw) {
          const req = parseRaw(String(r), pv, host);
          if (req) reqs.push(req);
        }
      } else if (Array.isArray(b.path)) {
        const headers = Object.entries((b.headers ?? {}) as Record<string, unknown>)
          .filter(([k]) => k.toLowerCase() !== 'content-length')
          .map(([k, v]): [string, string] => [k, fill(String(v), pv, host)]);
        const body =
          typeof b.body === 'string'
            ? fill(b.body, pv, host)
                .replace(/\r?\n/g, '\r\n')
                .replace(/(?:\r\n)+$/, '\r\n')
            : '';
        for (const p of b.path)
          reqs.push({ method: String(b.method ?? 'GET'), uri: pathOf(fill(String(p), pv, host), host), headers, body });
      }
    }
    const exp = expectations(b.matchers);
    const offset = steps.length;
    reqs.forEach((request, i) => steps.push({ request, expectBlocked: exp?.get(offset + i + 1) ?? true }));
  }
  return { id: String(doc.id ?? ''), steps };
}
