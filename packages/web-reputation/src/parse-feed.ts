import type { Diagnostic } from '@palisade/diagnostics';
import { getPublicSuffix } from 'tldts';
import type { EntryKind, FeedEntry, FeedFormat, ListKind, ParsedFeed } from './feed-entry.ts';
import { canonicalIpv6, ipv4ToNumber, ipv6ToBigInt, normalizeTarget, type Target } from './normalize-target.ts';
import { parseRisk, type Risk } from './risk-level.ts';

export interface FeedOptions {
  name: string;
  /** For diagnostics; defaults to the name. */
  file?: string;
  /** Defaults for entries that carry none; a `# palisade:` directive in the feed overrides them. */
  list?: ListKind;
  risk?: Risk;
  category?: string;
  /** Skip detection. */
  format?: FeedFormat;
}

export interface FeedParseResult {
  /** Absent when the feed is unusable as a whole; the caller then keeps the previous version. */
  feed?: ParsedFeed;
  diagnostics: Diagnostic[];
}

const PS_OPTS = {
  allowPrivateDomains: true,
  extractHostname: false,
  validateHostname: false,
  detectIp: false,
  mixedInputs: false,
} as const;
const SINK_IPS = new Set(['0.0.0.0', '127.0.0.1', '::', '::1', '0:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1', '255.255.255.255', '::0']);
const HOSTS_IGNORED = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);
const CIDR_LINE = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?(?:\s*[;#].*)?$/;

/** URLhaus `threat` values mapped to the categories operators filter on. */
const URLHAUS_CATEGORY: Record<string, string> = { malware_download: 'malware' };

/** What `\s` matches in a JavaScript regular expression. */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    (c > 127 &&
      (c === 0xa0 ||
        c === 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) ||
        c === 0x2028 ||
        c === 0x2029 ||
        c === 0x202f ||
        c === 0x205f ||
        c === 0x3000 ||
        c === 0xfeff))
  );
}

function isComment(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 35 /* # */ || c === 59 /* ; */ || c === 33 /* ! */;
}

/** Guesses the format from the first data lines; a directive or the caller can force it. */
export function detectFeedFormat(text: string): FeedFormat {
  const start = text.search(/\S/);
  if (start >= 0 && (text[start] === '{' || text[start] === '[')) return 'palisade-json';
  if (/^#.*urlhaus/im.test(text.slice(0, 4096))) return 'urlhaus-csv';
  let n = 0;
  let csv = 0;
  let hosts = 0;
  let cidr = 0;
  for (const raw of text.split('\n', 200)) {
    const line = raw.trim();
    if (line === '' || isComment(line)) continue;
    n++;
    if (/^"[^"]*"\s*,\s*"/.test(line)) csv++;
    else if (/^\S+\s+\S/.test(line) && ipLiteral(line.split(/\s+/)[0]!)) hosts++;
    else if (CIDR_LINE.test(line) && ipLiteral(line.split(/[/\s;#]/)[0]!)) cidr++;
    if (n >= 50) break;
  }
  if (n === 0) return 'plain-list';
  if (csv * 2 > n) return 'urlhaus-csv';
  if (hosts * 2 > n) return 'hosts';
  if (cidr * 2 > n) return 'cidr-list';
  return 'plain-list';
}

function ipLiteral(s: string): boolean {
  return ipv4ToNumber(s) !== undefined || (s.includes(':') && ipv6ToBigInt(s) !== undefined);
}

/** `ip/len` with host bits cleared, or undefined. */
export function normalizeCidr(text: string): { value: string; v6: boolean } | undefined {
  const [ip, lenText] = text.split('/');
  if (ip === undefined) return undefined;
  const n4 = ipv4ToNumber(ip);
  if (n4 !== undefined) {
    const len = lenText === undefined ? 32 : Number(lenText);
    if (!/^\d{1,2}$/.test(lenText ?? '32') || len > 32) return undefined;
    const masked = len === 0 ? 0 : ((n4 >>> (32 - len)) << (32 - len)) >>> 0;
    return { value: `${(masked >>> 24) & 255}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`, v6: false };
  }
  const n6 = ip.includes(':') ? ipv6ToBigInt(ip.toLowerCase()) : undefined;
  if (n6 === undefined) return undefined;
  const len = lenText === undefined ? 128 : Number(lenText);
  if (!/^\d{1,3}$/.test(lenText ?? '128') || len > 128) return undefined;
  const shift = BigInt(128 - len);
  return { value: `${canonicalIpv6((n6 >> shift) << shift)}/${len}`, v6: true };
}

/** Parses one feed. Bad lines are reported and skipped; a feed with no usable entry at all fails. */
export function parseFeed(text: string, options: FeedOptions): FeedParseResult {
  const file = options.file ?? options.name;
  const diagnostics: Diagnostic[] = [];
  const directive = /^#\s*palisade:(.*)$/m.exec(text.slice(0, 4096));
  const opts = { ...options };
  if (directive) {
    for (const m of directive[1]!.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      const v = m[2]!.replace(/^"|"$/g, '');
      if (m[1] === 'risk' && parseRisk(v)) opts.risk = parseRisk(v);
      else if (m[1] === 'category') opts.category = v;
      else if (m[1] === 'list' && (v === 'allow' || v === 'block')) opts.list = v;
      else if (m[1] === 'name') opts.name = v;
      else if (m[1] === 'format') opts.format = v as FeedFormat;
      else diagnostics.push({ code: 'WEBREP_FEED_DIRECTIVE', message: `ignored directive ${m[0]}`, severity: 'warning', file, line: 1 });
    }
  }
  const format = opts.format ?? detectFeedFormat(text);
  const list = opts.list ?? 'block';
  const risk: Risk = opts.risk ?? (list === 'allow' ? 'safe' : 'dangerous');
  const category = opts.category ?? (format === 'urlhaus-csv' ? 'malware' : list === 'allow' ? 'allow-list' : 'blocklist');
  const ctx: Ctx = { file, diagnostics, entries: [], risk, category };
  let dataLines = 0;
  if (format === 'palisade-json') {
    const r = parseJsonFeed(text, ctx);
    if (!r.ok) return { diagnostics };
    dataLines = r.count;
    if (r.list) opts.list = r.list;
    if (r.name) opts.name = r.name;
  } else {
    dataLines = parseTextFeed(text, format, ctx);
  }
  if (ctx.entries.length === 0 && dataLines > 0) {
    diagnostics.push({
      code: 'WEBREP_FEED_UNUSABLE',
      message: `no usable entry in ${dataLines} lines (detected format: ${format})`,
      severity: 'error',
      file,
    });
    return { diagnostics };
  }
  return { feed: { name: opts.name, format, list: opts.list ?? list, entries: ctx.entries }, diagnostics };
}

interface Ctx {
  file: string;
  diagnostics: Diagnostic[];
  entries: FeedEntry[];
  risk: Risk;
  category: string;
}

function warn(ctx: Ctx, line: number | undefined, message: string, code = 'WEBREP_FEED_LINE_INVALID', column = 1): void {
  // Huge broken feeds would otherwise carry a million diagnostics; the count is what matters then.
  if (ctx.diagnostics.length === 1000) {
    ctx.diagnostics.push({
      code: 'WEBREP_FEED_TOO_MANY_ERRORS',
      message: 'further bad lines are skipped without a report',
      severity: 'warning',
      file: ctx.file,
    });
  }
  if (ctx.diagnostics.length > 1000) return;
  ctx.diagnostics.push({ code, message, severity: 'warning', file: ctx.file, ...(line ? { line, column } : {}) });
}

/**
 * Adds a domain, URL or IP entry. A URL whose path is just `/` blocks the site (host and port);
 * a path ending in `/` is a prefix; anything else is that exact URL.
 */
function addTarget(ctx: Ctx, raw: string, line: number | undefined, risk: Risk, category: string, forced?: EntryKind): boolean {
  const t = normalizeTarget(raw);
  if (!t) {
    warn(ctx, line, `not a URL, host or IP: ${raw.slice(0, 80)}`);
    return false;
  }
  const hasScheme = raw.includes('://');
  let kind: EntryKind;
  if (forced === 'url' || forced === 'prefix') kind = forced;
  else if (forced === 'host' || forced === 'domain') kind = t.hostKind === 'domain' ? forced : 'cidr';
  else if (hasScheme && t.path !== '/' && t.path !== '') kind = t.path.endsWith('/') && !t.query ? 'prefix' : 'url';
  else if (t.query) kind = 'url';
  else kind = t.hostKind === 'domain' ? 'domain' : 'cidr';
  // Only a port written in the entry (`evil.example:8080`, `http://evil.example:8080/`) pins one.
  let port = 0;
  if (kind !== 'url' && kind !== 'prefix' && raw.includes(':')) {
    const authority = (hasScheme ? raw.trim().slice(raw.indexOf('://') + 3) : raw.trim()).split(/[/?#]/)[0]!;
    if (/^(\[[^\]]*\]|[^:]*):\d+$/.test(authority)) port = t.port;
  }
  if (kind === 'domain' && isPublicSuffix(t)) {
    warn(ctx, line, `${t.host} is a public suffix: it only matches itself, not every site below it`, 'WEBREP_ENTRY_PUBLIC_SUFFIX');
    kind = 'host';
  }
  let value: string;
  if (kind === 'url' || kind === 'prefix') value = `${t.host}:${t.port}${t.path || '/'}${t.query}`;
  else if (kind === 'cidr') value = t.hostKind === 'ipv4' ? `${t.host}/32` : `${t.host}/128`;
  else value = t.host;
  ctx.entries.push({ kind, value, port: kind === 'url' || kind === 'prefix' ? t.port : port, risk, category, line: line ?? 0 });
  return true;
}

function isPublicSuffix(t: Target): boolean {
  return t.hostKind === 'domain' && getPublicSuffix(t.host, PS_OPTS) === t.host;
}

function parseTextFeed(text: string, format: FeedFormat, ctx: Ctx): number {
  let dataLines = 0;
  let columns = { url: 2, threat: 5, status: 3 };
  let lineNo = 0;
  let pos = 0;
  const len = text.length;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    let line = text.slice(pos, nl);
    pos = nl + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    line = line.trim();
    if (line === '') continue;
    if (isComment(line)) {
      // URLhaus names its columns in a comment: `# id,dateadded,url,url_status,...`.
      if (format === 'urlhaus-csv' && /^#\s*id\s*,/.test(line)) {
        const names = line
          .replace(/^#\s*/, '')
          .split(',')
          .map((c) => c.trim());
        columns = { url: names.indexOf('url'), threat: names.indexOf('threat'), status: names.indexOf('url_status') };
      }
      continue;
    }
    dataLines++;
    switch (format) {
      case 'urlhaus-csv': {
        const fields = splitCsv(line);
        const url = fields?.[columns.url];
        if (!fields || !url) {
          warn(ctx, lineNo, 'malformed CSV line');
          break;
        }
        const threat = columns.threat >= 0 ? fields[columns.threat] : undefined;
        const category = (threat && (URLHAUS_CATEGORY[threat] ?? threat)) || ctx.category;
        addTarget(ctx, url, lineNo, ctx.risk, category, 'url');
        break;
      }
      case 'hosts': {
        // `address name...` and maybe a comment; split by hand (a regex split and its arrays,
        // per line, cost as much as the rest of the line's work on million-line feeds).
        const hash = line.indexOf('#');
        const end = hash >= 0 ? hash : line.length;
        let i = 0;
        while (i < end && !isSpace(line.charCodeAt(i))) i++;
        const address = line.slice(0, i);
        while (i < end && isSpace(line.charCodeAt(i))) i++;
        if (i === end || !ipLiteral(address)) {
          warn(ctx, lineNo, 'expected `address hostname...`');
          break;
        }
        // A hosts file pointing a name at a real address is a local override, not a block.
        if (!SINK_IPS.has(address)) break;
        while (i < end) {
          const start = i;
          while (i < end && !isSpace(line.charCodeAt(i))) i++;
          const h = line.slice(start, i);
          if (!HOSTS_IGNORED.has(h.toLowerCase())) addTarget(ctx, h, lineNo, ctx.risk, ctx.category, 'domain');
          while (i < end && isSpace(line.charCodeAt(i))) i++;
        }
        break;
      }
      case 'cidr-list': {
        const m = CIDR_LINE.exec(line);
        const c = m ? normalizeCidr(m[2] === undefined ? m[1]! : `${m[1]}/${m[2]}`) : undefined;
        if (!c) warn(ctx, lineNo, 'expected an IP address or CIDR block');
        else ctx.entries.push({ kind: 'cidr', value: c.value, port: 0, risk: ctx.risk, category: ctx.category, line: lineNo });
        break;
      }
      default: {
        // Plain lists: one URL, host or IP per line; a trailing comment is allowed.
        const item = line.replace(/\s+[#;].*$/, '');
        if (/\s/.test(item)) {
          warn(ctx, lineNo, 'expected one URL, host or IP per line');
          break;
        }
        if (item.includes('/') && !item.includes('://') && normalizeCidr(item)) {
          const c = normalizeCidr(item)!;
          ctx.entries.push({ kind: 'cidr', value: c.value, port: 0, risk: ctx.risk, category: ctx.category, line: lineNo });
        } else addTarget(ctx, item, lineNo, ctx.risk, ctx.category);
      }
    }
  }
  return dataLines;
}

/** RFC 4180 fields of one line; undefined when quotes do not balance. */
function splitCsv(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      if (i < line.length && line[i] !== ',') return undefined;
      i++;
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end).trim());
      i = end + 1;
    }
  }
  return out;
}

const JSON_KINDS: EntryKind[] = ['url', 'prefix', 'domain', 'host', 'cidr', 'keyword'];

function parseJsonFeed(text: string, ctx: Ctx): { ok: true; count: number; list?: ListKind; name?: string } | { ok: false } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    let pos: { line: number; column: number } | undefined;
    if (m) {
      const before = text.slice(0, Number(m[1]));
      pos = { line: before.split('\n').length, column: Number(m[1]) - before.lastIndexOf('\n') };
    }
    ctx.diagnostics.push({ code: 'WEBREP_FEED_JSON', message: (err as Error).message, severity: 'error', file: ctx.file, ...pos });
    return { ok: false };
  }
  const top = Array.isArray(doc) ? { entries: doc } : (doc as Record<string, unknown>);
  if (!top || typeof top !== 'object' || !Array.isArray(top.entries)) {
    ctx.diagnostics.push({
      code: 'WEBREP_FEED_JSON',
      message: 'expected an array of entries or an object with `entries`',
      severity: 'error',
      file: ctx.file,
    });
    return { ok: false };
  }
  let list: ListKind | undefined;
  if (top.list !== undefined) {
    if (top.list === 'allow' || top.list === 'block') list = top.list;
    else warn(ctx, undefined, '`list` must be "allow" or "block"', 'WEBREP_FEED_JSON_ENTRY');
  }
  if (list === 'allow') {
    ctx.risk = 'safe';
    ctx.category = 'allow-list';
  }
  if (typeof top.risk === 'string') {
    const r = parseRisk(top.risk);
    if (r) ctx.risk = r;
    else warn(ctx, undefined, `unknown risk '${top.risk}'`, 'WEBREP_FEED_JSON_ENTRY');
  }
  if (typeof top.category === 'string') ctx.category = top.category;
  const entries = top.entries as unknown[];
  entries.forEach((e, i) => {
    const where = `entry ${i}`;
    if (typeof e === 'string') {
      addTarget(ctx, e, undefined, ctx.risk, ctx.category);
      return;
    }
    if (!e || typeof e !== 'object') {
      warn(ctx, undefined, `${where}: expected a string or an object`, 'WEBREP_FEED_JSON_ENTRY');
      return;
    }
    const o = e as Record<string, unknown>;
    const kind = JSON_KINDS.find((k) => typeof o[k] === 'string') ?? (typeof o.ip === 'string' ? 'cidr' : undefined);
    if (!kind) {
      warn(ctx, undefined, `${where}: needs one of url, prefix, domain, host, ip, cidr, keyword`, 'WEBREP_FEED_JSON_ENTRY');
      return;
    }
    const risk = typeof o.risk === 'string' ? parseRisk(o.risk) : ctx.risk;
    if (!risk) {
      warn(ctx, undefined, `${where}: unknown risk '${String(o.risk)}'`, 'WEBREP_FEED_JSON_ENTRY');
      return;
    }
    const category = typeof o.category === 'string' ? o.category : ctx.category;
    const value = String(o[kind] ?? o.ip);
    if (kind === 'keyword') {
      if (value.trim() === '') warn(ctx, undefined, `${where}: empty keyword`, 'WEBREP_FEED_JSON_ENTRY');
      else ctx.entries.push({ kind, value: value.toLowerCase(), port: 0, risk, category, line: 0 });
    } else if (kind === 'cidr') {
      const c = normalizeCidr(value);
      if (!c) warn(ctx, undefined, `${where}: not an IP or CIDR block: ${value}`, 'WEBREP_FEED_JSON_ENTRY');
      else ctx.entries.push({ kind, value: c.value, port: typeof o.port === 'number' ? o.port : 0, risk, category, line: 0 });
    } else {
      const before = ctx.entries.length;
      if (addTarget(ctx, value, undefined, risk, category, kind) && typeof o.port === 'number' && (kind === 'domain' || kind === 'host')) {
        ctx.entries[before]!.port = o.port;
      }
    }
  });
  return { ok: true, count: entries.length, ...(list ? { list } : {}), ...(typeof top.name === 'string' ? { name: top.name } : {}) };
}
