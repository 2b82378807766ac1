import { eventFields } from './event-fields.ts';
import type { ForwardedEvent } from './forwarded-event.ts';
import { PRODUCT } from './product-identity.ts';
import { SEVERITY_MAPPING } from './severity-mapping.ts';
import { signatureId } from './signature-ids.ts';

/** Header fields: backslash and pipe are escaped, line breaks replaced (a header is one line). */
export function escapeLeefHeader(v: string): string {
  return v
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n\t]+/g, ' ');
}

/**
 * Attribute values: the tab delimiter and line breaks are written as \t \n \r and backslash as
 * \\. `=` needs no escape: a key ends at the first `=` of its attribute.
 */
export function escapeLeefValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

export const LEEF_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSX";

/** The event as one IBM QRadar LEEF 2.0 record with tab-delimited attributes. */
export function formatLeef(e: ForwardedEvent): string {
  const f = eventFields(e);
  const attrs: [string, string | number | undefined][] = [
    ['devTime', new Date(Date.parse(e.time)).toISOString()],
    ['devTimeFormat', LEEF_TIME_FORMAT],
    ['sev', SEVERITY_MAPPING[e.severity].leef],
    ['cat', e.module],
    ['src', f.src],
    ['srcPort', f.srcPort],
    ['dst', f.dst],
    ['dstPort', f.dstPort],
    ['proto', f.proto],
    ['identHostName', e.hostname],
    ['computerId', e.computerId],
    ['eventId', e.id],
    ['eventType', e.type],
    ['ruleId', e.ruleId],
    ['tenantId', e.tenantId],
    ['group', e.group ?? undefined],
    ['action', f.action],
    ['url', f.url ?? f.requestLine],
    ['filePath', f.filePath],
    ['fileHash', f.fileHash],
    ['malwareName', f.malwareName],
    ['count', f.count],
    ['cves', f.cves?.length ? f.cves.join(',') : undefined],
    ['msg', e.message],
  ];
  const header = [
    'LEEF:2.0',
    escapeLeefHeader(PRODUCT.vendor),
    escapeLeefHeader(PRODUCT.product),
    escapeLeefHeader(PRODUCT.version),
    String(signatureId(e.module, e.type, e.ruleId)),
    'x09',
  ].join('|');
  const body = attrs
    .filter((kv): kv is [string, string | number] => kv[1] !== undefined && kv[1] !== '')
    .map(([k, v]) => `${k}=${escapeLeefValue(String(v))}`)
    .join('\t');
  return `${header}|${body}`;
}
