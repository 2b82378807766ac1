import { randomUUID } from 'node:crypto';
import type { ForwardedEvent } from '../forwarded-event.ts';

/** A forwarded event with plausible defaults; tests override what they look at. */
export function sampleEvent(overrides: Partial<ForwardedEvent> = {}): ForwardedEvent {
  return {
    id: randomUUID(),
    time: '2026-03-04T05:06:07.089Z',
    module: 'ips',
    type: 'ips.blocked',
    severity: 'high',
    ruleId: '942100',
    message: 'web: blocked GET /?id=1 OR 1=1 from 203.0.113.9',
    details: {
      action: 'blocked',
      clientAddress: '203.0.113.9',
      requestLine: 'GET /?id=1 OR 1=1 HTTP/1.1',
      cves: ['CVE-2021-44228'],
      count: 1,
    },
    tenantId: 'primary',
    computerId: '8d0c1c2e-5b7a-4c9e-9a51-0d2f1f3a4b5c',
    hostname: 'web-1',
    group: 'web',
    ips: ['10.0.0.5'],
    instanceId: null,
    receivedAt: '2026-03-04T05:06:08.000Z',
    ...overrides,
  };
}
