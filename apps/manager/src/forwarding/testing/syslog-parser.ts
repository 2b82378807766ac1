/**
 * A small, independent reader of what the forwarders write: syslog headers (RFC 5424 and RFC
 * 3164), octet-counted streams (RFC 6587), CEF and LEEF. It is written from the specifications,
 * not from the formatters, so a test that parses what was sent checks the wire format itself.
 */

export interface SyslogRecord {
  rfc: '5424' | '3164';
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId?: string;
  msgId?: string;
  structuredData?: string;
  msg: string;
}

export function parseSyslog(line: string): SyslogRecord {
  const pri = /^<([0-9]{1,3})>/.exec(line);
  if (!pri) throw new Error(`no PRI: ${line.slice(0, 40)}`);
  const p = Number(pri[1]);
  const rest = line.slice(pri[0].length);
  const m5424 = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ([\s\S]*)$/.exec(rest);
  if (m5424) {
    return {
      rfc: '5424',
      facility: p >> 3,
      severity: p & 7,
      timestamp: m5424[1]!,
      hostname: m5424[2]!,
      appName: m5424[3]!,
      procId: m5424[4]!,
      msgId: m5424[5]!,
      structuredData: m5424[6]!,
      msg: m5424[7]!,
    };
  }
  const m3164 = /^([A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}) (\S+) ([^:\s[]+)(?:\[[^\]]*\])?: ([\s\S]*)$/.exec(rest);
  if (m3164) {
    return {
      rfc: '3164',
      facility: p >> 3,
      severity: p & 7,
      timestamp: m3164[1]!,
      hostname: m3164[2]!,
      appName: m3164[3]!,
      msg: m3164[4]!,
    };
  }
  throw new Error(`not RFC 5424 or RFC 3164: ${line.slice(0, 80)}`);
}

/** Reassembles `LEN SP MSG` frames from a byte stream, whatever the chunk boundaries. */
export class OctetCountingDecoder {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const sp = this.buf.indexOf(0x20);
      if (sp < 0) break;
      const lenText = this.buf.subarray(0, sp).toString('ascii');
      if (!/^[1-9][0-9]{0,8}$/.test(lenText)) throw new Error(`bad octet count ${JSON.stringify(lenText)}`);
      const len = Number(lenText);
      if (this.buf.length < sp + 1 + len) break;
      out.push(this.buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
      this.buf = this.buf.subarray(sp + 1 + len);
    }
    return out;
  }

  get pendingBytes(): number {
    return this.buf.length;
  }
}

/** Splits on `sep` where it is not preceded by an escaping backslash. */
function splitUnescaped(s: string, sep: string, limit: number): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep && parts.length < limit - 1) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescapeHeader(v: string): string {
  return v.replace(/\\([\\|])/g, '$1');
}

export interface CefRecord {
  version: string;
  vendor: string;
  product: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  extension: Record<string, string>;
}

/** CEF: seven pipe-separated header fields, then `key=value` pairs separated by spaces. */
export function parseCef(line: string): CefRecord {
  if (!line.startsWith('CEF:')) throw new Error('not CEF');
  const parts = splitUnescaped(line.slice(4), '|', 8);
  if (parts.length !== 8) throw new Error(`CEF header has ${parts.length} fields`);
  const [version, vendor, product, deviceVersion, signatureId, name, severity, ext] = parts as string[];
  const extension: Record<string, string> = {};
  // A key starts after a space (or at the start) and ends at the first unescaped `=`.
  const keyRe = /(?:^| )([A-Za-z0-9_]+)=/g;
  const starts: { key: string; at: number; valueAt: number }[] = [];
  for (let m = keyRe.exec(ext!); m; m = keyRe.exec(ext!)) {
    // An `=` preceded by an odd number of backslashes is escaped, part of a value.
    let bs = 0;
    for (let j = m.index + m[0].length - 2; j >= 0 && ext![j] === '\\'; j--) bs++;
    if (bs % 2 === 1) continue;
    starts.push({ key: m[1]!, at: m.index, valueAt: m.index + m[0].length });
  }
  starts.forEach((s, i) => {
    const raw = ext!.slice(s.valueAt, i + 1 < starts.length ? starts[i + 1]!.at : ext!.length);
    extension[s.key] = raw.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
  });
  return {
    version: version!,
    vendor: unescapeHeader(vendor!),
    product: unescapeHeader(product!),
    deviceVersion: unescapeHeader(deviceVersion!),
    signatureId: unescapeHeader(signatureId!),
    name: unescapeHeader(name!),
    severity: severity!,
    extension,
  };
}

export interface LeefRecord {
  version: string;
  vendor: string;
  product: string;
  productVersion: string;
  eventId: string;
  attributes: Record<string, string>;
}

/** LEEF 1.0/2.0: pipe-separated header (2.0 adds the delimiter), then delimited `key=value`. */
export function parseLeef(line: string): LeefRecord {
  const m = /^LEEF:(1\.0|2\.0)\|/.exec(line);
  if (!m) throw new Error('not LEEF');
  const fields = m[1] === '2.0' ? 6 : 5;
  const parts = splitUnescaped(line.slice(5), '|', fields + 1);
  const [version, vendor, product, productVersion, eventId] = parts as string[];
  let delimiter = '\t';
  if (m[1] === '2.0') {
    const d = parts[5]!;
    delimiter = /^(0?x)[0-9A-Fa-f]{2}$/.test(d) ? String.fromCharCode(Number.parseInt(d.replace(/^0?x/, ''), 16)) : d || '\t';
  }
  const attributes: Record<string, string> = {};
  for (const attr of parts[fields]!.split(delimiter)) {
    if (!attr) continue;
    const eq = attr.indexOf('=');
    if (eq <= 0) throw new Error(`LEEF attribute without key: ${attr}`);
    attributes[attr.slice(0, eq)] = attr
      .slice(eq + 1)
      .replace(/\\(.)/g, (_, ch: string) => (ch === 't' ? '\t' : ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
  }
  return {
    version: version!,
    vendor: unescapeHeader(vendor!),
    product: unescapeHeader(product!),
    productVersion: unescapeHeader(productVersion!),
    eventId: unescapeHeader(eventId!),
    attributes,
  };
}
