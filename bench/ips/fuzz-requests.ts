import { BENCH_MIX, type BenchRequest } from './requests.ts';

/** Small deterministic PRNG (mulberry32) so a failing fuzz case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  "'", '"', '<script>', '</', '../', '..\\', '%', '%u', '%25', '%00', '\u0000', '\r\n', '{{', '${', '`', ';', '|', '&&', '--', '/*', '*/', '#',
  'union select', 'or 1=1', 'javascript:', 'onerror=', '<?php', '\\x', '\\u00', '&#x', '=', '&', '[', ']', '{', '}', ':', '\t', ' ', '\u00ff', '\u00e9', '\ud83d\ude00',
];

const BASES: BenchRequest[] = [
  ...BENCH_MIX,
  { name: 'xml', method: 'POST', uri: '/soap', headers: [['Host', 'x'], ['Content-Type', 'text/xml']], body: '<a b="1"><c>text</c><![CDATA[x]]></a>' },
  { name: 'json-deep', method: 'PUT', uri: '/api', headers: [['Host', 'x'], ['Content-Type', 'application/json']], body: '{"a":[1,{"b":"c"}]}' },
];

function mutateString(s: string, rnd: () => number): string {
  const kind = Math.floor(rnd() * 8);
  const pos = Math.floor(rnd() * (s.length + 1));
  switch (kind) {
    case 0: // random bytes
      return s.slice(0, pos) + String.fromCharCode(...Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256))) + s.slice(pos);
    case 1: // attack-ish token
      return s.slice(0, pos) + TOKENS[Math.floor(rnd() * TOKENS.length)] + s.slice(pos);
    case 2: // delete a span
      return s.slice(0, pos) + s.slice(pos + Math.floor(rnd() * 16));
    case 3: // long run (backtracking bait)
      return s.slice(0, pos) + (TOKENS[Math.floor(rnd() * TOKENS.length)] ?? 'a').repeat(1 + Math.floor(rnd() * 2000)) + s.slice(pos);
    case 4: // duplicate a span
      return s.slice(0, pos) + s.slice(Math.max(0, pos - 32), pos).repeat(1 + Math.floor(rnd() * 50)) + s.slice(pos);
    case 5: // nesting
      return s.slice(0, pos) + '['.repeat(Math.floor(rnd() * 3000)) + s.slice(pos);
    case 6: // truncate
      return s.slice(0, pos);
    default: // case flip
      return s.slice(0, pos) + s.slice(pos).toUpperCase();
  }
}

/** The n-th fuzz request for a seed: a base request with 1-4 mutations in any part. */
export function fuzzRequest(seed: number): BenchRequest {
  const rnd = prng(seed);
  const base = BASES[Math.floor(rnd() * BASES.length)]!;
  const r: BenchRequest = { ...base, headers: base.headers.map(([k, v]) => [k, v] as [string, string]) };
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const part = Math.floor(rnd() * 6);
    if (part === 0) r.uri = mutateString(r.uri, rnd);
    else if (part === 1) r.body = mutateString(r.body ?? '', rnd);
    else if (part === 2) r.method = mutateString(r.method, rnd).slice(0, 20) || 'GET';
    else if (part === 3 && r.headers.length) {
      const h = Math.floor(rnd() * r.headers.length);
      r.headers[h] = [r.headers[h]![0], mutateString(r.headers[h]![1], rnd)];
    } else if (part === 4) {
      const ct = ['application/json', 'text/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/soap+xml', 'text/plain'];
      r.headers = r.headers.filter(([k]) => k.toLowerCase() !== 'content-type');
      r.headers.push(['Content-Type', ct[Math.floor(rnd() * ct.length)]!]);
    } else r.headers.push([mutateString('X-Fuzz', rnd), mutateString('v', rnd)]);
  }
  return r;
}
