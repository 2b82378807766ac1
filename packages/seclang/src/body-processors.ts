import { urlDecode } from './transformations.ts';

/** Name/value pairs in byte strings. */
export type Pairs = [string, string][];

/** `a=1&b=2`; `+` and `%XX` decoded, malformed escapes kept, names without `=` get an empty value. */
export function parseUrlEncoded(body: string, separator = '&'): { pairs: Pairs; invalidEncoding: boolean } {
  const pairs: Pairs = [];
  let invalidEncoding = false;
  if (body === '') return { pairs, invalidEncoding };
  for (const part of body.split(separator)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    if (/%(?![0-9a-fA-F]{2})/.test(part)) invalidEncoding = true;
    pairs.push([urlDecode(k), urlDecode(v)]);
  }
  return { pairs, invalidEncoding };
}

/** JSON body → `json.a.b` style pairs (arrays use the index as key), as ModSecurity v3 names them. */
export function parseJson(body: string, depthLimit = 512): { pairs: Pairs; error?: string } {
  let doc: unknown;
  try {
    // Bytes are UTF-8 on the wire: decode for JSON.parse, then re-encode each value to bytes.
    doc = JSON.parse(Buffer.from(body, 'latin1').toString('utf8'));
  } catch (err) {
    return { pairs: [], error: `JSON parsing error: ${(err as Error).message}` };
  }
  const pairs: Pairs = [];
  const toBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  let tooDeep = false;
  const walk = (v: unknown, key: string, depth: number) => {
    if (depth > depthLimit) {
      tooDeep = true;
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) pairs.push([toBytes(key), '']);
      v.forEach((x, i) => walk(x, `${key}.${i}`, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0) pairs.push([toBytes(key), '']);
      for (const [k, x] of entries) walk(x, `${key}.${k}`, depth + 1);
    } else pairs.push([toBytes(key), v === null ? '' : toBytes(String(v))]);
  };
  walk(doc, 'json', 0);
  if (tooDeep) return { pairs: [], error: 'JSON depth limit exceeded' };
  return { pairs };
}

export interface XmlResult {
  /** Text nodes (and CDATA) in document order, for XML:/*. */
  texts: string[];
  /** Attribute values, for XML://@*. */
  attributes: string[];
  error?: string;
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeXmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCharCode(Number.parseInt(e.slice(2), 16) & 0xff);
    if (e.startsWith('#')) return String.fromCharCode(Number.parseInt(e.slice(1), 10) & 0xff);
    return XML_ENTITIES[e] ?? m;
  });
}

/** A small well-formedness-checking XML reader: enough to expose text and attributes to rules. */
export function parseXml(body: string): XmlResult {
  const texts: string[] = [];
  const attributes: string[] = [];
  const stack: string[] = [];
  let i = 0;
  let sawRoot = false;
  const fail = (msg: string): XmlResult => ({ texts, attributes, error: `XML parsing error: ${msg}` });
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt < 0 ? body.length : lt);
    if (text.trim() !== '') {
      if (stack.length === 0) return fail('text outside the root element');
      texts.push(decodeXmlText(text));
    }
    if (lt < 0) break;
    if (body.startsWith('<!--', lt)) {
      const end = body.indexOf('-->', lt + 4);
      if (end < 0) return fail('unterminated comment');
      i = end + 3;
      continue;
    }
    if (body.startsWith('<![CDATA[', lt)) {
      const end = body.indexOf(']]>', lt + 9);
      if (end < 0) return fail('unterminated CDATA');
      texts.push(body.slice(lt + 9, end));
      i = end + 3;
      continue;
    }
    if (body.startsWith('<?', lt)) {
      const end = body.indexOf('?>', lt + 2);
      if (end < 0) return fail('unterminated processing instruction');
      i = end + 2;
      continue;
    }
    if (body.startsWith('<!', lt)) {
      // DOCTYPE (possibly with an internal subset)
      let depth = 0;
      let j = lt + 2;
      for (; j < body.length; j++) {
        if (body[j] === '[') depth++;
        else if (body[j] === ']') depth--;
        else if (body[j] === '>' && depth <= 0) break;
      }
      if (j >= body.length) return fail('unterminated declaration');
      i = j + 1;
      continue;
    }
    const gt = findTagEnd(body, lt + 1);
    if (gt < 0) return fail('unterminated tag');
    const inner = body.slice(lt + 1, gt);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim();
      if (stack.pop() !== name) return fail(`mismatched end tag </${name}>`);
    } else {
      const selfClose = inner.endsWith('/');
      const m = /^([^\s/>]+)/.exec(inner);
      if (!m) return fail('bad tag');
      if (stack.length === 0 && sawRoot) return fail('more than one root element');
      sawRoot = true;
      const attrRe = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
      const attrs = inner.slice(m[0].length);
      for (let a = attrRe.exec(attrs); a; a = attrRe.exec(attrs)) attributes.push(decodeXmlText(a[2] ?? a[3] ?? ''));
      if (!selfClose) stack.push(m[1]!);
    }
    i = gt + 1;
  }
  if (!sawRoot) return fail('no root element');
  if (stack.length > 0) return fail(`unclosed element <${stack[stack.length - 1]}>`);
  return { texts, attributes };
}

function findTagEnd(s: string, from: number): number {
  let q: string | null = null;
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (q) {
      if (c === q) q = null;
    } else if (c === '"' || c === "'") q = c;
    else if (c === '>') return j;
  }
  return -1;
}

export interface MultipartResult {
  args: Pairs;
  /** field name → file name */
  files: Pairs;
  fileSizes: Pairs;
  /** field name → one header line of its part */
  partHeaders: Pairs;
  combinedFileSize: number;
  flags: {
    boundaryQuoted: boolean;
    boundaryWhitespace: boolean;
    dataBefore: boolean;
    dataAfter: boolean;
    headerFolding: boolean;
    lfLine: boolean;
    crlfLfLines: boolean;
    missingSemicolon: boolean;
    invalidQuoting: boolean;
    invalidPart: boolean;
    invalidHeaderFolding: boolean;
    fileLimitExceeded: boolean;
    unmatchedBoundary: boolean;
  };
  error?: string;
}

/** Boundary from a Content-Type value, with the irregularities CRS and ModSecurity flag. */
export function multipartBoundary(contentType: string): { boundary?: string; quoted: boolean; whitespace: boolean; error?: string } {
  const m = /boundary\s*=\s*("?)([^";,]*)\1?/i.exec(contentType);
  if (!m) return { quoted: false, whitespace: false, error: 'Multipart: boundary not found in Content-Type' };
  const quoted = m[1] === '"';
  const whitespace = /boundary\s+=|=\s+/i.test(contentType.slice(m.index, m.index + m[0].length)) || /\s/.test(m[2]!);
  const boundary = quoted ? m[2]! : m[2]!.trim();
  if (boundary === '' || boundary.length > 70) return { quoted, whitespace, error: 'Multipart: invalid boundary' };
  if ((contentType.match(/(?:^|[;,\s])boundary\s*=/gi) ?? []).length > 1) return { boundary, quoted, whitespace, error: 'Multipart: multiple boundary parameters' };
  return { boundary, quoted, whitespace };
}

function parseDisposition(value: string): { name?: string; filename?: string; missingSemicolon: boolean; invalidQuoting: boolean; ok: boolean } {
  let missingSemicolon = false;
  let invalidQuoting = false;
  const m = /^\s*form-data\s*(.*)$/is.exec(value);
  if (!m) return { missingSemicolon, invalidQuoting, ok: false };
  let rest = m[1]!;
  const out: { name?: string; filename?: string } = {};
  while (rest.trim() !== '') {
    const semi = /^\s*;/.exec(rest);
    if (!semi) missingSemicolon = true;
    else rest = rest.slice(semi[0].length);
    const pm = /^\s*([a-zA-Z*]+)\s*=\s*/.exec(rest);
    if (!pm) return { ...out, missingSemicolon, invalidQuoting, ok: false };
    rest = rest.slice(pm[0].length);
    let val: string;
    if (rest.startsWith('"')) {
      let j = 1;
      val = '';
      while (j < rest.length && rest[j] !== '"') {
        if (rest[j] === '\\' && (rest[j + 1] === '"' || rest[j + 1] === '\\')) {
          val += rest[j + 1];
          j += 2;
          continue;
        }
        val += rest[j];
        j++;
      }
      if (j >= rest.length) invalidQuoting = true;
      rest = rest.slice(j + 1);
    } else {
      const vm = /^[^;\s]*/.exec(rest)!;
      val = vm[0];
      if (val.includes("'") || val.includes('"')) invalidQuoting = true;
      rest = rest.slice(vm[0].length);
    }
    const pname = pm[1]!.toLowerCase();
    if (pname === 'name') out.name = val;
    else if (pname === 'filename' || pname === 'filename*') out.filename = val;
  }
  return { ...out, missingSemicolon, invalidQuoting, ok: true };
}

export function parseMultipart(body: string, contentType: string): MultipartResult {
  const res: MultipartResult = {
    args: [],
    files: [],
    fileSizes: [],
    partHeaders: [],
    combinedFileSize: 0,
    flags: {
      boundaryQuoted: false,
      boundaryWhitespace: false,
      dataBefore: false,
      dataAfter: false,
      headerFolding: false,
      lfLine: false,
      crlfLfLines: false,
      missingSemicolon: false,
      invalidQuoting: false,
      invalidPart: false,
      invalidHeaderFolding: false,
      fileLimitExceeded: false,
      unmatchedBoundary: false,
    },
  };
  const b = multipartBoundary(contentType);
  res.flags.boundaryQuoted = b.quoted;
  res.flags.boundaryWhitespace = b.whitespace;
  if (!b.boundary) {
    res.error = b.error;
    return res;
  }
  if (b.error) res.error = b.error;
  const delim = `--${b.boundary}`;
  // Split into lines keeping track of LF vs CRLF endings.
  const lines: { text: string; crlf: boolean; last: boolean }[] = [];
  let pos = 0;
  let sawCrlf = false;
  let sawLf = false;
  while (pos < body.length) {
    const nl = body.indexOf('\n', pos);
    if (nl < 0) {
      lines.push({ text: body.slice(pos), crlf: false, last: true });
      break;
    }
    const crlf = nl > pos && body[nl - 1] === '\r';
    lines.push({ text: body.slice(pos, crlf ? nl - 1 : nl), crlf, last: false });
    pos = nl + 1;
  }
  let state: 'preamble' | 'headers' | 'data' | 'done' = 'preamble';
  let part: { headers: [string, string][]; data: string[]; dataEndings: boolean[] } | null = null;
  const finishPart = () => {
    if (!part) return;
    let data = '';
    for (let k = 0; k < part.data.length; k++) {
      data += part.data[k];
      // The line ending before the next boundary belongs to the delimiter.
      if (k < part.data.length - 1) data += part.dataEndings[k] ? '\r\n' : '\n';
    }
    const cd = part.headers.find(([k]) => k.toLowerCase() === 'content-disposition');
    if (!cd) {
      res.flags.invalidPart = true;
      res.error ??= 'Multipart: part without Content-Disposition';
    } else {
      const d = parseDisposition(cd[1]);
      if (d.missingSemicolon) res.flags.missingSemicolon = true;
      if (d.invalidQuoting) res.flags.invalidQuoting = true;
      if (!d.ok || d.name === undefined) {
        res.flags.invalidPart = true;
        res.error ??= 'Multipart: invalid Content-Disposition';
      } else {
        for (const [k, v] of part.headers) res.partHeaders.push([d.name, `${k}: ${v}`]);
        if (d.filename !== undefined) {
          res.files.push([d.name, d.filename]);
          res.fileSizes.push([d.name, String(data.length)]);
          res.combinedFileSize += data.length;
        } else res.args.push([d.name, data]);
      }
    }
    part = null;
  };
  for (const line of lines) {
    const isDelim = line.text.startsWith(delim);
    if (isDelim) {
      const after = line.text.slice(delim.length);
      const final = after.startsWith('--');
      const tail = final ? after.slice(2) : after;
      if (tail.trim() !== '' ) {
        // Looks like our boundary but continues: not a delimiter.
        if (state === 'data' && part) {
          part.data.push(line.text);
          part.dataEndings.push(line.crlf);
        }
        res.flags.unmatchedBoundary = true;
        continue;
      }
      if (!line.last) {
        if (line.crlf) sawCrlf = true;
        else sawLf = true;
      }
      if (state === 'preamble' || state === 'data' || state === 'headers') {
        if (state === 'headers') res.flags.invalidPart = true;
        finishPart();
      }
      if (final) {
        state = 'done';
        continue;
      }
      state = 'headers';
      part = { headers: [], data: [], dataEndings: [] };
      continue;
    }
    if (state === 'preamble') {
      if (line.text !== '' || !line.last) res.flags.dataBefore = true;
      continue;
    }
    if (state === 'done') {
      if (line.text !== '') res.flags.dataAfter = true;
      continue;
    }
    if (!line.last) {
      if (line.crlf) sawCrlf = true;
      else sawLf = true;
    }
    if (state === 'headers') {
      if (line.text === '') {
        state = 'data';
        continue;
      }
      if (/^[ \t]/.test(line.text)) {
        res.flags.headerFolding = true;
        const prev = part!.headers[part!.headers.length - 1];
        if (!prev) res.flags.invalidHeaderFolding = true;
        else prev[1] += ` ${line.text.trim()}`;
        continue;
      }
      const colon = line.text.indexOf(':');
      if (colon <= 0) {
        res.flags.invalidPart = true;
        res.error ??= 'Multipart: invalid part header';
        continue;
      }
      part!.headers.push([line.text.slice(0, colon).trim(), line.text.slice(colon + 1).trim()]);
      continue;
    }
    // data
    part!.data.push(line.text);
    part!.dataEndings.push(line.crlf);
  }
  if (state !== 'done') {
    res.error ??= 'Multipart: final boundary missing';
    finishPart();
  }
  res.flags.lfLine = sawLf;
  res.flags.crlfLfLines = sawLf && sawCrlf;
  return res;
}
