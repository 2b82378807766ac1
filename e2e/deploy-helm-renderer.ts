import { stringify } from 'yaml';

/**
 * The subset of Helm's Go templates that deploy/helm uses, so the chart can be rendered and
 * checked without the `helm` binary: `{{ .Values.a.b }}`, `.Release.Name|Namespace`,
 * `.Chart.Version|AppVersion`, `if`/`else`/`end`, `toYaml X`, and the pipes `quote`,
 * `nindent N`, `indent N`; `{{-` and `-}}` trim whitespace as in Go. Anything else throws, so a
 * template cannot use a feature this renderer would silently get wrong.
 */
export interface HelmContext {
  Values: Record<string, unknown>;
  Release: { Name: string; Namespace: string };
  Chart: { Version: string; AppVersion: string };
}

type Node = { kind: 'text'; text: string } | { kind: 'expr'; expr: string } | { kind: 'if'; cond: string; then: Node[]; else: Node[] };

function tokenize(src: string): ({ kind: 'text'; text: string } | { kind: 'action'; body: string })[] {
  const out: ({ kind: 'text'; text: string } | { kind: 'action'; body: string })[] = [];
  let i = 0;
  let trimNextText = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNextText) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ kind: 'text', text });
      break;
    }
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error(`unclosed {{ at ${open}`);
    let body = src.slice(open + 2, close);
    if (body.startsWith('-')) {
      text = text.replace(/\s+$/, '');
      body = body.slice(1);
    }
    trimNextText = body.endsWith('-');
    if (trimNextText) body = body.slice(0, -1);
    out.push({ kind: 'text', text });
    out.push({ kind: 'action', body: body.trim() });
    i = close + 2;
  }
  return out;
}

function parse(tokens: ReturnType<typeof tokenize>): Node[] {
  let pos = 0;
  const block = (stopAt: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.kind === 'text') {
        if (t.text) nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      if (stopAt.includes(t.body)) return { nodes, stop: t.body };
      if (t.body.startsWith('if ')) {
        const thenPart = block(['else', 'end']);
        const elsePart = thenPart.stop === 'else' ? block(['end']).nodes : [];
        nodes.push({ kind: 'if', cond: t.body.slice(3).trim(), then: thenPart.nodes, else: elsePart });
      } else if (t.body === 'end' || t.body === 'else' || /^(range|with|define|include|template)\b/.test(t.body)) {
        throw new Error(`unsupported or misplaced action {{ ${t.body} }}`);
      } else nodes.push({ kind: 'expr', expr: t.body });
    }
    if (stopAt.length) throw new Error(`missing {{ end }}`);
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

function lookup(path: string, ctx: HelmContext): unknown {
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`unsupported term ${path}`);
  let v: unknown = ctx;
  for (const part of path.slice(1).split('.')) v = v == null ? undefined : (v as Record<string, unknown>)[part];
  return v;
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function evaluate(expr: string, ctx: HelmContext): unknown {
  const [head, ...pipes] = expr.split('|').map((s) => s.trim());
  let v: unknown;
  if (head!.startsWith('toYaml ')) {
    const x = lookup(head!.slice(7).trim(), ctx);
    v = stringify(x).replace(/\n$/, '');
  } else if (/^"[^"]*"$/.test(head!)) v = head!.slice(1, -1);
  else v = lookup(head!, ctx);
  for (const p of pipes) {
    const [fn, arg] = p.split(/\s+/);
    if (fn === 'quote') v = JSON.stringify(v === undefined || v === null ? '' : String(v));
    else if (fn === 'nindent' || fn === 'indent') {
      const pad = ' '.repeat(Number(arg));
      const indented = String(v)
        .split('\n')
        .map((l) => pad + l)
        .join('\n');
      v = fn === 'nindent' ? `\n${indented}` : indented;
    } else throw new Error(`unsupported pipe ${p}`);
  }
  return v;
}

function run(nodes: Node[], ctx: HelmContext): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'expr') {
      const v = evaluate(n.expr, ctx);
      if (v === undefined) throw new Error(`{{ ${n.expr} }} has no value`);
      out += typeof v === 'string' ? v : JSON.stringify(v);
    } else {
      const c = n.cond.startsWith('not ') ? !truthy(lookup(n.cond.slice(4).trim(), ctx)) : truthy(lookup(n.cond, ctx));
      out += run(c ? n.then : n.else, ctx);
    }
  }
  return out;
}

export function renderHelmTemplate(source: string, ctx: HelmContext): string {
  return run(parse(tokenize(source)), ctx);
}
