import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventAggregator } from './event-aggregator.ts';
import type { IpsDetection } from './ips-event.ts';
import { redactMatched } from './ips-event.ts';

const d = (client: string, ruleId = 9500010): IpsDetection => ({
  service: 'web',
  action: 'blocked',
  ruleId,
  cves: ['CVE-2017-5638'],
  msg: 'm',
  peerAddress: '10.0.0.1',
  clientAddress: client,
  requestLine: 'POST /x HTTP/1.1',
  matchedData: '',
});

test('the first detection is reported at once, repeats in the window as one counted event', () => {
  const a = new EventAggregator(60_000);
  assert.equal(a.add(d('1.1.1.1'), 0)?.count, 1);
  for (let i = 1; i <= 9; i++) assert.equal(a.add(d('1.1.1.1'), i * 1000), undefined);
  assert.ok(a.add(d('2.2.2.2'), 10_000), 'another client is another event');
  assert.deepEqual(a.flush(30_000), []);
  const closed = a.flush(60_000);
  assert.equal(closed.length, 1);
  assert.equal(closed[0]!.count, 9);
  assert.equal(closed[0]!.clientAddress, '1.1.1.1');
  assert.deepEqual(
    a.flush(200_000).map((x) => x.count),
    [],
  );
});

test('a new window after expiry reports again immediately', () => {
  const a = new EventAggregator(1000);
  a.add(d('1.1.1.1'), 0);
  a.add(d('1.1.1.1'), 10);
  assert.equal(a.add(d('1.1.1.1'), 5000)?.count, 1);
  assert.deepEqual(
    a.flush(5001).map((x) => x.count),
    [1],
  );
  assert.deepEqual(
    a.flush(0, true).map((x) => x.count),
    [],
  );
});

test('cookies and authorization are redacted, long values truncated', () => {
  assert.match(redactMatched('REQUEST_HEADERS:Authorization', 'Basic abc', 50), /redacted 9 bytes/);
  assert.match(redactMatched('REQUEST_COOKIES:SESSID', '../../x', 50), /redacted/);
  assert.equal(redactMatched('ARGS:q', 'x'.repeat(10), 4), 'ARGS:q=xxxx…(+6)');
});
