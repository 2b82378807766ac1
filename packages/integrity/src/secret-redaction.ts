/**
 * Secret redaction for the text diffs of configuration files. A diff travels to the manager,
 * its event store and its forwarders, and the agent keeps a copy of each file's last content:
 * neither may carry a password. Values are replaced by a token carrying a keyed fingerprint
 * (`[redacted:3f0c81d2a9be4410]`, the key is the agent's and never leaves it), so the stored copy
 * holds no secret while a diff can still say that a password changed (`[redacted#1]` ->
 * `[redacted#2]`) or did not.
 */

/** Keyed one-way fingerprint of a secret (the agent uses an HMAC with a key of its own). */
export type SecretFingerprint = (secret: string) => string;

export interface RedactionOptions {
  /** The built-in patterns (default true). */
  defaults?: boolean;
  /** More patterns: a match is redacted, or only its capture groups when it has some. */
  patterns?: readonly RegExp[];
}

export interface RedactedText {
  text: string;
  /** Values replaced. */
  count: number;
}

/** Lines longer than this are redacted whole: config lines are short, and a long one is usually a key or a blob. */
export const MAX_REDACTION_LINE = 4096;

const SECRET_WORDS =
  'password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]key|secret[_-]?key|client[_-]?secret|credentials?|auth[_-]?key|authorization';
// A key "looks secret" when it ends with one of the words (`db_password`, `ApiKey`, `auth_token`);
// `PasswordAuthentication` or `PermitEmptyPasswords` in sshd_config do not, and stay readable.
const KEY = `[\\w.-]{0,64}?(?:${SECRET_WORDS})`;
const LINE_START = `^(\\s*(?:[#;]+\\s*)?(?:export\\s+|set\\s+)?)(["']?)(${KEY})\\2`;
// `key = value` / `key: value`: the value is everything to the end of the line (ini values have spaces).
const LINE_START_KV = new RegExp(`${LINE_START}(\\s*[:=]\\s*)(.*)$`, 'i');
// `Key value` (sshd_config style): one token, quoted or not, then at most a comment. Several
// words are a directive, not a secret: `password required pam_unix.so` in /etc/pam.d.
const LINE_START_WS = new RegExp(`${LINE_START}(\\s+)("[^"]*"|'[^']*'|[^\\s"'#]+)\\s*(?:#.*)?$`, 'i');
const INLINE_KV = new RegExp(`(?<![\\w.-])(["']?)(${KEY})\\1(\\s*[:=]\\s*)("(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^\\s"',;&}\\]]+)`, 'gid');
const FLAG = new RegExp(`(?:^|\\s)--?[\\w-]{0,32}?(?:${SECRET_WORDS})(?:\\s+|=)("[^"]*"|'[^']*'|\\S+)`, 'gid');
const XML = new RegExp(`<([\\w.-]{0,64}?(?:${SECRET_WORDS}))>([^<]+)</\\1>`, 'gid');
const URL_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:([^\s@/]+)@/dgi;
// crypt(3) hashes (a legacy /etc/passwd, htpasswd, a pasted shadow line).
const CRYPT_HASH = /\$(?:1|2[abxy]?|5|6|7|y|gy|sha1|md5)\$[./A-Za-z0-9$=,+-]{8,}/dg;
// Well-known token shapes: AWS access key ids, GitHub and Slack tokens, Stripe secret keys.
const TOKEN_SHAPES = /\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,})\b/dg;
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{1,64})-----/;

type Range = [number, number];

/** Ranges of `re` matches in `line`: group 1 only when `group` is set, else the whole match. */
function collect(re: RegExp, line: string, out: Range[], groups: number[] | 'all'): void {
  re.lastIndex = 0;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    const idx = m.indices!;
    if (groups === 'all') {
      // A user pattern: its capture groups when it has any, else the whole match.
      let any = false;
      for (let g = 1; g < idx.length; g++) {
        const r = idx[g];
        if (r && r[1] > r[0]) {
          out.push([r[0], r[1]]);
          any = true;
        }
      }
      if (!any && idx.length === 1) out.push([idx[0]![0], idx[0]![1]]);
    } else {
      for (const g of groups) {
        const r = idx[g];
        if (r && r[1] > r[0]) out.push([r[0], r[1]]);
      }
    }
    if (!re.global) break;
  }
}

/** The value part of an unquoted or quoted value at the end of a line, without trailing `,;` and blanks. */
function lineValue(line: string, start: number): Range | undefined {
  let s = start;
  let e = line.length;
  while (e > s && /[\s,;]/.test(line[e - 1]!)) e--;
  const q = line[s];
  if ((q === '"' || q === "'") && e - s >= 2 && line[e - 1] === q) {
    s++;
    e--;
  }
  return e > s ? [s, e] : undefined;
}

function rangesOf(line: string, opts: RedactionOptions): Range[] {
  const out: Range[] = [];
  if (opts.defaults !== false) {
    const kv = LINE_START_KV.exec(line);
    if (kv) {
      const start = kv[1]!.length + kv[2]!.length * 2 + kv[3]!.length + kv[4]!.length;
      const r = lineValue(line, start);
      if (r) out.push(r);
    } else {
      const ws = LINE_START_WS.exec(line);
      if (ws) {
        const start = ws[1]!.length + ws[2]!.length * 2 + ws[3]!.length + ws[4]!.length;
        out.push([start, start + ws[5]!.length]);
      }
    }
    collect(INLINE_KV, line, out, [4]);
    collect(FLAG, line, out, [1]);
    collect(XML, line, out, [2]);
    collect(URL_CREDENTIALS, line, out, [1]);
    collect(CRYPT_HASH, line, out, [0]);
    collect(TOKEN_SHAPES, line, out, [0]);
  }
  for (const re of opts.patterns ?? []) collect(re, line, out, 'all');
  // Quotes around an inline value are kept: only what is between them is secret.
  for (const r of out) {
    const q = line[r[0]];
    if ((q === '"' || q === "'") && r[1] - r[0] >= 2 && line[r[1] - 1] === q) {
      r[0]++;
      r[1]--;
    }
  }
  return out.filter((r) => r[1] > r[0]).sort((x, y) => x[0] - y[0] || y[1] - x[1]);
}

/**
 * Values that are no secret and stay readable: placeholders (`x` in /etc/passwd, `*`, `!`),
 * switches (`GSSAPIDelegateCredentials no`), punctuation and comments.
 */
function placeholder(v: string): boolean {
  if (/^(?:x|\*|!!?|yes|no|true|false|on|off|none|null|nil|undefined|0|1)$/i.test(v) || /^\[redacted[:#]/.test(v)) return true;
  // Punctuation only (`Password::` in a prompt string), or a comment where a value could be (`secret = # off`).
  return !/[\p{L}\p{N}]/u.test(v) || /^[#;]/.test(v);
}

function redactLine(line: string, opts: RedactionOptions, fp: SecretFingerprint): { line: string; count: number } {
  if (line.length > MAX_REDACTION_LINE) return { line: `[redacted:${fp(line)}] (line of ${line.length} characters)`, count: 1 };
  const ranges = rangesOf(line, opts);
  if (ranges.length === 0) return { line, count: 0 };
  // Overlapping matches (a URL inside a `token=` value) merge into one.
  const merged: Range[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  let out = '';
  let at = 0;
  let count = 0;
  for (const [s, e] of merged) {
    const value = line.slice(s, e);
    if (placeholder(value)) continue;
    out += `${line.slice(at, s)}[redacted:${fp(value)}]`;
    at = e;
    count++;
  }
  return { line: out + line.slice(at), count };
}

/**
 * Redacts secrets in a text, line by line, keeping the line structure (so a diff of two redacted
 * texts has the line numbers of the originals). PEM blocks keep their BEGIN/END lines; their
 * first body line carries the fingerprint of the whole body, the others become `[redacted]`.
 */
export function redactSecrets(text: string, fingerprint: SecretFingerprint, opts: RedactionOptions = {}): RedactedText {
  const lines = text.split('\n');
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const begin = opts.defaults !== false && line.length <= MAX_REDACTION_LINE ? PEM_BEGIN.exec(line) : null;
    if (begin) {
      const endMark = `-----END ${begin[1]}-----`;
      const after = line.slice(begin.index + begin[0].length);
      const sameLine = after.indexOf(endMark);
      if (sameLine >= 0) {
        // A block on one line (a JSON string with `\n` escapes): redact between the markers.
        const body = after.slice(0, sameLine);
        if (body.trim() !== '') {
          lines[i] = `${line.slice(0, begin.index + begin[0].length)}[redacted:${fingerprint(body)}]${after.slice(sameLine)}`;
          count++;
        }
        continue;
      }
      let j = i + 1;
      while (j < lines.length && !lines[j]!.includes(endMark)) j++;
      // An unterminated block is redacted to the end: better too much than a half key.
      const body = lines.slice(i + 1, j).join('\n');
      if (j > i + 1) {
        lines[i + 1] = `[redacted:${fingerprint(body)}]`;
        for (let k = i + 2; k < j; k++) lines[k] = '[redacted]';
        count++;
      }
      i = j;
      continue;
    }
    const r = redactLine(line, opts, fingerprint);
    lines[i] = r.line;
    count += r.count;
  }
  return { text: lines.join('\n'), count };
}

const TOKEN = /\[redacted:([0-9a-f]{8,64})\]/g;

/**
 * Replaces the fingerprints of two redacted texts by small numbers (`[redacted#1]`), the same
 * number for the same secret on either side: the diff shows whether a value changed without
 * showing even its fingerprint.
 */
export function numberRedactions(before: string, after: string): [string, string] {
  const numbers = new Map<string, number>();
  const sub = (t: string) =>
    t.replace(TOKEN, (_m, fp: string) => {
      let n = numbers.get(fp);
      if (n === undefined) numbers.set(fp, (n = numbers.size + 1));
      return `[redacted#${n}]`;
    });
  return [sub(before), sub(after)];
}

/**
 * Compiles user redaction patterns (JavaScript syntax, matched case-insensitively per line).
 * Returns the message of the first invalid one instead of throwing.
 */
export function compileRedactionPattern(source: string): RegExp | { error: string } {
  try {
    const re = new RegExp(source, 'gid');
    if (re.test('')) return { error: 'the pattern matches the empty string' };
    return re;
  } catch (e) {
    return { error: (e as Error).message };
  }
}
