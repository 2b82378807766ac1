import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleEvent } from './testing/sample-event.ts';
import { startWebhookReceiver } from './testing/webhook-receiver.ts';
import { WebhookSender } from './webhook-sender.ts';

const SECRET = 'whsec-0123456789abcdef-test';

test('a signed batch is verified by the receiver and carries the JSON layout', async () => {
  const rx = await startWebhookReceiver(SECRET);
  try {
    const events = [
      sampleEvent(),
      sampleEvent({
        module: 'integrity',
        type: 'integrity.changed',
        ruleId: undefined,
        details: { path: '/etc/passwd', change: 'modified' },
      }),
    ];
    await new WebhookSender({ url: rx.url }, { secret: SECRET }, () => new Date()).send(events);
    assert.equal(rx.deliveries.length, 1);
    assert.equal(rx.deliveries[0]!.valid, true);
    assert.match(rx.deliveries[0]!.signature, /^sha256=[0-9a-f]{64}$/);
    assert.deepEqual(
      rx.accepted.map((r) => [r.EventType, r.EventID, r.Hostname]),
      [
        ['PayloadLog', events[0]!.id, 'web-1'],
        ['IntegrityEvent', events[1]!.id, 'web-1'],
      ],
    );
    assert.equal(rx.accepted[1]!.Key, '/etc/passwd');
  } finally {
    await rx.close();
  }
});

test('a wrong secret, a stale timestamp and a non-2xx answer all fail the delivery', async () => {
  const rx = await startWebhookReceiver(SECRET);
  try {
    await assert.rejects(
      new WebhookSender({ url: rx.url }, { secret: 'another-secret-entirely' }, () => new Date()).send([sampleEvent()]),
      /HTTP 401/,
    );
    await assert.rejects(
      new WebhookSender({ url: rx.url }, { secret: SECRET }, () => new Date(Date.now() - 3600_000)).send([sampleEvent()]),
      /HTTP 401/,
    );
    rx.status = 503;
    await assert.rejects(new WebhookSender({ url: rx.url }, { secret: SECRET }, () => new Date()).send([sampleEvent()]), /HTTP 503/);
    assert.deepEqual(
      rx.deliveries.map((d) => d.valid),
      [false, false, true],
    );
    assert.equal(rx.accepted.length, 0);
  } finally {
    await rx.close();
  }
});
