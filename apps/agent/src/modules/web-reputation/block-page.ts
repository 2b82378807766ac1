import type { Verdict } from '@palisade/web-reputation';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page a plain-HTTP request to a blocked destination gets instead of the site. */
export function blockPage(v: Verdict): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Blocked by Palisade</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>This address is blocked</h1>
<p>Palisade web reputation blocked <code>${escape(v.url)}</code>.</p>
<p>Risk: <strong>${escape(v.risk)}</strong>${v.category ? `; category: ${escape(v.category)}` : ''}${v.feed ? `; list: ${escape(v.feed)}` : ''}.</p>
<p>If you need this address for your work, ask your administrator to add it to the allow list.</p>
</body></html>
`;
}
