import type { ForwardedEvent } from './forwarded-event.ts';
import { PRODUCT } from './product-identity.ts';
import { SEVERITY_MAPPING } from './severity-mapping.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5424 header fields are PRINTUSASCII without spaces; anything else becomes `_`. */
function printable(v: string, max: number): string {
  const s = v.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return s.length > 0 ? s : '-';
}

/**
 * The syslog line for one event: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP - MSGID - MSG`) or RFC 3164
 * (`<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`). HOSTNAME is the agent's host, where the event happened;
 * the time is the event's, in UTC. No BOM: many receivers treat it as part of the message.
 */
export function syslogMessage(rfc: '5424' | '3164', facility: number, e: ForwardedEvent, msg: string): string {
  const pri = facility * 8 + SEVERITY_MAPPING[e.severity].syslog;
  const t = new Date(Date.parse(e.time));
  if (rfc === '3164') {
    const hh = (n: number) => String(n).padStart(2, '0');
    const stamp = `${MONTHS[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2, ' ')} ${hh(t.getUTCHours())}:${hh(t.getUTCMinutes())}:${hh(t.getUTCSeconds())}`;
    return `<${pri}>${stamp} ${printable(e.hostname, 255)} ${PRODUCT.appName}: ${msg}`;
  }
  return `<${pri}>1 ${t.toISOString()} ${printable(e.hostname, 255)} ${PRODUCT.appName} - ${printable(e.module, 32)} - ${msg}`;
}

/** RFC 6587 / RFC 5425 octet counting: `LENGTH SP MESSAGE`, the length in bytes. */
export function octetCountingFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
