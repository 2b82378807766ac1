import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeSns, startFakeSns } from '../testing/fake-aws/sns-service.ts';
import { SnsSender, snsMessages } from './sns-sender.ts';
import { sampleEvent } from './testing/sample-event.ts';

describe('SNS publish through the AWS SDK to an SNS endpoint on loopback', () => {
  let sns: FakeSns;
  let topicArn: string;
  before(async () => {
    sns = await startFakeSns({ region: 'eu-west-1' });
    topicArn = sns.createTopic('palisade-events');
  });
  after(() => sns.close());

  const sender = (secretAccessKey = sns.credentials.secretAccessKey, arn = topicArn) =>
    new SnsSender({ topicArn: arn, endpoint: sns.endpoint, accessKeyId: sns.credentials.accessKeyId }, { secretAccessKey });

  test('a batch is published as one JSON array with the documented fields', async () => {
    const events = [
      sampleEvent({ instanceId: 'i-0abc123' }),
      sampleEvent({
        module: 'anti-malware',
        type: 'malware.quarantined',
        ruleId: undefined,
        severity: 'critical',
        details: { path: '/srv/x.php', signature: 'Php.Webshell', sha256: 'ab'.repeat(32), action: 'quarantined' },
      }),
    ];
    const s = sender();
    await s.send(events);
    await s.close();
    assert.equal(sns.published.length, 1);
    const p = sns.published[0]!;
    assert.equal(p.topicArn, topicArn);
    assert.equal(p.region, 'eu-west-1', 'region taken from the topic ARN');
    const records = JSON.parse(p.message) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(records[0]!).slice(0, 6), ['EventType', 'EventID', 'LogDate', 'HostID', 'Hostname', 'HostGroupName']);
    assert.deepEqual(
      records.map((r) => [r.EventType, r.HostID, r.Hostname, r.TenantID, r.LogDate]),
      events.map((e) => [e.module === 'ips' ? 'PayloadLog' : 'AntiMalwareEvent', e.computerId, 'web-1', 'primary', e.time]),
    );
    assert.equal(records[0]!.HostInstanceID, 'i-0abc123');
    assert.deepEqual([records[0]!.SourceIP, records[0]!.RuleID, records[0]!.CVEs], ['203.0.113.9', '942100', ['CVE-2021-44228']]);
    assert.deepEqual(
      [records[1]!.MalwareName, records[1]!.InfectedFilePath, records[1]!.ScanResultString],
      ['Php.Webshell', '/srv/x.php', 'quarantined'],
    );
  });

  test('a wrong secret key, an unknown topic and an outage are errors (nothing published)', async () => {
    const before = sns.published.length;
    await assert.rejects(sender('wrong-secret').send([sampleEvent()]), { name: 'SignatureDoesNotMatch' });
    await assert.rejects(sender(undefined, topicArn.replace('palisade-events', 'nope')).send([sampleEvent()]), {
      name: 'NotFoundException',
    });
    sns.setAvailable(false);
    try {
      await assert.rejects(sender().send([sampleEvent()]), /ServiceUnavailable|unavailable/i);
    } finally {
      sns.setAvailable(true);
    }
    assert.equal(sns.published.length, before);
  });

  test('FIFO topics get a message group and a content-based deduplication id', async () => {
    const fifo = sns.createTopic('palisade-events.fifo');
    const before = sns.published.length;
    const events = [sampleEvent()];
    await sender(undefined, fifo).send(events);
    await sender(undefined, fifo).send(events); // a retry after a lost answer: SNS drops the copy
    const got = sns.published.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.groupId, 'palisade');
    assert.match(got[0]!.deduplicationId ?? '', /^[0-9a-f]{64}$/);
  });

  test('batches larger than one SNS message are split in order', async () => {
    const big = Array.from({ length: 60 }, (_, i) => sampleEvent({ message: `${i} ${'x'.repeat(8000)}` }));
    const before = sns.published.length;
    await sender().send(big);
    const messages = sns.published.slice(before).map((p) => p.message);
    assert.ok(messages.length >= 2);
    for (const m of messages) assert.ok(Buffer.byteLength(m) <= 262_144);
    assert.deepEqual(
      messages.flatMap((m) => (JSON.parse(m) as { EventID: string }[]).map((r) => r.EventID)),
      big.map((e) => e.id),
    );
    assert.deepEqual(snsMessages([]), []);
  });
});
