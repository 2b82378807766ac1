/** The parts of a DNS message (RFC 1035) a filtering forwarder needs: the question, and answers it makes up. */
export interface DnsQuestion {
  id: number;
  name: string;
  type: number;
  klass: number;
  /** Byte offset just after the question section. */
  end: number;
}

export const DNS_TYPE = { A: 1, AAAA: 28 } as const;

/** Reads the first question of a query; `undefined` for anything malformed or not a query. */
export function readQuestion(msg: Buffer): DnsQuestion | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  if (msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let p = 12;
  for (let guard = 0; guard < 128; guard++) {
    if (p >= msg.length) return undefined;
    const len = msg[p]!;
    if (len === 0) {
      p++;
      break;
    }
    if (len & 0xc0) return undefined; // no compression pointers in a question we accept
    if (p + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  if (p + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(p),
    klass: msg.readUInt16BE(p + 2),
    end: p + 4,
  };
}

/**
 * The answer for a blocked name: NXDOMAIN, or (`sinkhole`) an A/AAAA record pointing nowhere
 * (0.0.0.0 / ::) so clients fail fast instead of retrying other resolvers. Echoes the question.
 */
export function blockedAnswer(query: Buffer, q: DnsQuestion, mode: 'nxdomain' | 'sinkhole', ttl = 60): Buffer {
  const question = query.subarray(12, q.end);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const rd = query.readUInt16BE(2) & 0x0100;
  const sinkAnswer = mode === 'sinkhole' && (q.type === DNS_TYPE.A || q.type === DNS_TYPE.AAAA);
  // QR, opcode 0, AA, RD copied, RA; RCODE 3 (NXDOMAIN) or 0.
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | (mode === 'nxdomain' ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(sinkAnswer ? 1 : 0, 6);
  if (!sinkAnswer) return Buffer.concat([header, question]);
  const rdata = Buffer.alloc(q.type === DNS_TYPE.A ? 4 : 16);
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  rr.writeUInt16BE(q.type, 2);
  rr.writeUInt16BE(1, 4);
  rr.writeUInt32BE(ttl, 6);
  rr.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([header, question, rr, rdata]);
}
