import { isIPv4 } from 'node:net';
import { eventFields } from './event-fields.ts';
import type { ForwardedEvent } from './forwarded-event.ts';
import { PRODUCT } from './product-identity.ts';
import { SEVERITY_MAPPING } from './severity-mapping.ts';
import { signatureId } from './signature-ids.ts';

/** Header fields: backslash and pipe are escaped; line breaks are not allowed there at all. */
export function escapeCefHeader(v: string): string {
  return v
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');
}

/** Extension values: backslash and equals are escaped, line breaks written as \n and \r. */
export function escapeCefValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/**
 * The event as one ArcSight CEF:0 line. Extension keys are CEF dictionary keys where one fits
 * (see docs/forwarding.md for the full mapping), custom strings cs1-cs6 for the rest.
 */
export function formatCef(e: ForwardedEvent): string {
  const f = eventFields(e);
  const ext: [string, string | number | undefined][] = [
    ['rt', Date.parse(e.time)],
    ['dvchost', e.hostname],
    ['dvc', e.ips.find((ip) => isIPv4(ip))],
    ['deviceExternalId', e.computerId],
    ['externalId', e.id],
    ['cat', e.module],
    ['act', f.action],
    ['src', f.src],
    ['spt', f.srcPort],
    ['dst', f.dst],
    ['dpt', f.dstPort],
    ['proto', f.proto],
    ['request', f.url ?? f.requestLine],
    ['filePath', f.filePath],
    ['fileHash', f.fileHash],
    ['cnt', f.count],
    ['msg', e.message],
    ['cs1Label', e.ruleId !== undefined ? 'ruleId' : undefined],
    ['cs1', e.ruleId],
    ['cs2Label', 'eventType'],
    ['cs2', e.type],
    ['cs3Label', 'tenantId'],
    ['cs3', e.tenantId],
    ['cs4Label', e.group !== null ? 'group' : undefined],
    ['cs4', e.group ?? undefined],
    ['cs5Label', f.malwareName !== undefined ? 'malwareName' : undefined],
    ['cs5', f.malwareName],
    ['cs6Label', f.cves?.length ? 'cves' : undefined],
    ['cs6', f.cves?.length ? f.cves.join(',') : undefined],
  ];
  const header = [
    'CEF:0',
    escapeCefHeader(PRODUCT.vendor),
    escapeCefHeader(PRODUCT.product),
    escapeCefHeader(PRODUCT.version),
    String(signatureId(e.module, e.type, e.ruleId)),
    escapeCefHeader(e.message.slice(0, 512)),
    String(SEVERITY_MAPPING[e.severity].cef),
  ].join('|');
  const extension = ext
    .filter((kv): kv is [string, string | number] => kv[1] !== undefined && kv[1] !== '' && !Number.isNaN(kv[1]))
    .map(([k, v]) => `${k}=${escapeCefValue(String(v))}`)
    .join(' ');
  return `${header}|${extension}`;
}
