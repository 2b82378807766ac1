import { type Interruption, type MatchedRule, type RuleSet, Transaction } from '@palisade/seclang';

/** The request line and headers as the server received them (strings carry bytes, latin1). */
export interface InspectedRequest {
  method: string;
  /** Request target exactly as received (path and query, percent-encoding untouched). */
  uri: string;
  protocol?: string;
  headers: readonly (readonly [string, string])[];
  peerAddress: string;
  peerPort: number;
  localAddress?: string;
  localPort?: number;
  /** UNIQUE_ID for the engine; it has no clock or randomness to make one. */
  id?: string;
}

export interface InspectionVerdict {
  interruption: Interruption | null;
  matchedRules: readonly MatchedRule[];
}

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/**
 * One request through the engine in the order a server sees it: headers first (phase 1, before
 * any body byte is read, so a block costs no body buffering), then the body (phase 2). Strings
 * are handed over as bytes because Node decodes the request line and headers as latin1.
 */
export class RequestInspector {
  private readonly tx: Transaction;
  private bodyBytes = 0;

  constructor(
    ruleSet: RuleSet,
    private readonly req: InspectedRequest,
  ) {
    this.tx = new Transaction(ruleSet, req.id !== undefined ? { id: req.id } : {});
  }

  /** Phase 1. A non-null interruption means: answer now, do not read the body. */
  headers(): InspectionVerdict {
    const r = this.req;
    this.tx.processConnection(r.peerAddress, r.peerPort, r.localAddress ?? '', r.localPort ?? 0);
    this.tx.processUri(bytes(r.uri), r.method, r.protocol ?? 'HTTP/1.1');
    for (const [k, v] of r.headers) this.tx.addRequestHeader(k, bytes(v));
    const interruption = this.tx.processRequestHeaders();
    return { interruption, matchedRules: this.tx.matchedRules };
  }

  /** Feeds body bytes; the engine applies SecRequestBodyLimit / LimitAction itself. */
  body(chunk: Uint8Array): InspectionVerdict | null {
    this.bodyBytes += chunk.byteLength;
    const i = this.tx.appendRequestBody(chunk);
    return i ? { interruption: i, matchedRules: this.tx.matchedRules } : null;
  }

  /** Phase 2, after the whole (or the inspected part of the) body. */
  finish(): InspectionVerdict {
    const interruption = this.tx.processRequestBody();
    return { interruption, matchedRules: this.tx.matchedRules };
  }

  get receivedBodyBytes(): number {
    return this.bodyBytes;
  }
}

/** Convenience for fixtures and tests: the whole request at once. */
export function inspectRequest(ruleSet: RuleSet, req: InspectedRequest, body?: Uint8Array): InspectionVerdict {
  const ins = new RequestInspector(ruleSet, req);
  const h = ins.headers();
  if (h.interruption) return h;
  if (body && body.byteLength) {
    const b = ins.body(body);
    if (b) return b;
  }
  return ins.finish();
}
