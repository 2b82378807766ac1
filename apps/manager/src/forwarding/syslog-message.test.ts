import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SEVERITIES } from '@palisade/protocol';
import { SEVERITY_MAPPING } from './severity-mapping.ts';
import { signatureId, SIGNATURE_BASES } from './signature-ids.ts';
import { octetCountingFrame, syslogMessage } from './syslog-message.ts';
import { OctetCountingDecoder, parseSyslog } from './testing/syslog-parser.ts';
import { sampleEvent } from './testing/sample-event.ts';

test('RFC 5424 header: PRI from facility and severity, event time, host, app, module as MSGID', () => {
  const line = syslogMessage('5424', 16, sampleEvent({ hostname: 'web 1\u00e9' }), 'hello');
  assert.equal(line, '<131>1 2026-03-04T05:06:07.089Z web_1_ palisade - ips - hello');
  const r = parseSyslog(line);
  assert.deepEqual(
    [r.rfc, r.facility, r.severity, r.hostname, r.appName, r.msgId, r.msg],
    ['5424', 16, 3, 'web_1_', 'palisade', 'ips', 'hello'],
  );
});

test('RFC 3164 header: space-padded day, UTC time, tag', () => {
  const line = syslogMessage('3164', 4, sampleEvent({ severity: 'critical', time: '2026-11-05T23:01:02.000Z' }), 'm: x');
  assert.equal(line, '<34>Nov  5 23:01:02 web-1 palisade: m: x');
  const r = parseSyslog(line);
  assert.deepEqual(
    [r.rfc, r.facility, r.severity, r.timestamp, r.hostname, r.appName, r.msg],
    ['3164', 4, 2, 'Nov  5 23:01:02', 'web-1', 'palisade', 'm: x'],
  );
});

test('octet counting counts bytes, and the decoder reassembles frames split anywhere', () => {
  const msgs = ['<14>1 - - - - - - a', 'ünïcödé\nline two', 'x'.repeat(3000)];
  const stream = Buffer.concat(msgs.map(octetCountingFrame));
  assert.ok(octetCountingFrame('ü').equals(Buffer.from('2 ü')));
  for (const step of [1, 7, 1000, stream.length]) {
    const d = new OctetCountingDecoder();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i += step) got.push(...d.push(stream.subarray(i, i + step)));
    assert.deepEqual(got, msgs, `chunks of ${step}`);
    assert.equal(d.pendingBytes, 0);
  }
});

test('severity mapping is monotonic in every format', () => {
  for (let i = 1; i < SEVERITIES.length; i++) {
    const a = SEVERITY_MAPPING[SEVERITIES[i - 1]!];
    const b = SEVERITY_MAPPING[SEVERITIES[i]!];
    assert.ok(b.cef > a.cef && b.leef > a.leef && b.sns > a.sns && b.syslog < a.syslog);
  }
});

test('signature ids stay inside their module block', () => {
  assert.equal(signatureId('ips', 'ips.blocked', '942100'), 3_943_100);
  assert.equal(signatureId('log-inspection', 'x', '5710'), 5_006_710);
  assert.equal(signatureId('ips', 'ips.blocked', '998999'), 3_999_999);
  assert.equal(signatureId('ips', 'ips.blocked', '999000'), 3_000_002, 'too large for the block: type id');
  assert.equal(signatureId('firewall', 'firewall.deny', 'drop-ssh'), 4_000_001);
  assert.equal(signatureId('integrity', 'something-new'), 6_000_999);
  for (const [m, base] of Object.entries(SIGNATURE_BASES)) {
    for (const id of [signatureId(m as never, 'zzz'), signatureId(m as never, 'zzz', '0'), signatureId(m as never, 'zzz', '998999')])
      assert.ok(id >= base && id < base + 1_000_000);
  }
});
