import type { ForwardedEvent } from './forwarded-event.ts';

/**
 * The network/file facts of an event, wherever the module put them in `details`. Modules name
 * them their own way (the IPS says `clientAddress`, the firewall `src`), and every output format
 * maps from this one shape so the names are decided once.
 */
export interface EventFields {
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  proto?: string;
  action?: string;
  url?: string;
  requestLine?: string;
  filePath?: string;
  fileHash?: string;
  malwareName?: string;
  count?: number;
  cves?: string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isInteger(n) ? n : undefined;
};
const first = <T>(d: Record<string, unknown>, keys: string[], conv: (v: unknown) => T | undefined): T | undefined => {
  for (const k of keys) {
    const v = conv(d[k]);
    if (v !== undefined) return v;
  }
  return undefined;
};

export function eventFields(e: ForwardedEvent): EventFields {
  const d = (e.details ?? {}) as Record<string, unknown>;
  const f: EventFields = {
    src: first(d, ['src', 'clientAddress', 'sourceIp', 'source'], str),
    dst: first(d, ['dst', 'destinationIp', 'destination'], str),
    srcPort: first(d, ['srcPort', 'sourcePort', 'spt'], num),
    dstPort: first(d, ['dstPort', 'destinationPort', 'dpt'], num),
    proto: first(d, ['proto', 'protocol'], str),
    action: first(d, ['action', 'kind', 'result'], str),
    url: first(d, ['url'], str),
    requestLine: first(d, ['requestLine'], str),
    filePath: first(d, ['path', 'file', 'filePath'], str),
    fileHash: first(d, ['sha256', 'hash', 'fileHash'], str),
    malwareName: first(d, ['signature', 'malwareName', 'virus', 'threat'], str),
    count: first(d, ['count'], num),
    cves: Array.isArray(d.cves) ? d.cves.filter((c): c is string => typeof c === 'string') : undefined,
  };
  for (const k of Object.keys(f) as (keyof EventFields)[]) if (f[k] === undefined) delete f[k];
  return f;
}
