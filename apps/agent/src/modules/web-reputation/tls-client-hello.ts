/**
 * The server name (SNI) of a TLS ClientHello, read without decrypting anything: what a
 * transparent HTTPS proxy can know about the destination. Returns `undefined` while the record
 * is incomplete (read more), `null` when the bytes are not a ClientHello or carry no SNI.
 */
export function readClientHelloSni(buf: Buffer): string | null | undefined {
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0x16 || buf[1] !== 0x03) return null; // handshake record, TLS 1.x
  const recordLen = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLen) return undefined;
  let p = 5;
  const end = 5 + recordLen;
  if (buf[p] !== 0x01) return null; // ClientHello
  p += 4; // type + 24-bit length
  p += 2 + 32; // client version + random
  if (p >= end) return null;
  p += 1 + buf[p]!; // session id
  if (p + 2 > end) return null;
  p += 2 + buf.readUInt16BE(p); // cipher suites
  if (p >= end) return null;
  p += 1 + buf[p]!; // compression methods
  if (p + 2 > end) return null;
  const extEnd = Math.min(end, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 0 && p + 2 <= extEnd) {
      // server_name list: (type 0 = host_name, 2-byte length, name)...
      let q = p + 2;
      const listEnd = Math.min(p + len, extEnd);
      while (q + 3 <= listEnd) {
        const nameType = buf[q]!;
        const nameLen = buf.readUInt16BE(q + 1);
        q += 3;
        if (nameType === 0 && q + nameLen <= listEnd) return buf.toString('latin1', q, q + nameLen).toLowerCase();
        q += nameLen;
      }
      return null;
    }
    p += len;
  }
  return null;
}
