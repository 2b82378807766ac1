import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { startFakeSns } from '../testing/fake-aws/sns-service.ts';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';
import { isDeliveryRefused, snsErrorRefuses, webhookStatusRefuses } from './delivery-refused.ts';
import { ForwarderDispatcher } from './forwarder-dispatcher.ts';

const SECRET = 'webhook-shared-secret-0123456789';

/**
 * A webhook receiver that refuses (400) any request carrying one of the `poison` event ids and
 * takes everything else; `status` other than 0 answers every request with that status instead.
 */
async function startPickyReceiver() {
  const rx = {
    url: '',
    poison: new Set<string>(),
    status: 0,
    accepted: [] as string[],
    requests: 0,
    server: undefined as unknown as Server,
  };
  rx.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      rx.requests++;
      if (rx.status) {
        res.writeHead(rx.status).end();
        return;
      }
      const ids = (JSON.parse(body) as { EventID: string }[]).map((r) => r.EventID);
      if (ids.some((id) => rx.poison.has(id))) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unsupported event"}');
        return;
      }
      rx.accepted.push(...ids);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => rx.server.listen(0, '127.0.0.1', r));
  rx.url = `http://127.0.0.1:${(rx.server.address() as { port: number }).port}/hook`;
  return rx;
}

test('which answers count as a refusal of the events themselves', () => {
  assert.deepEqual([400, 413, 422, 409].map(webhookStatusRefuses), [true, true, true, true]);
  // about the receiver, not the events: retried with backoff
  assert.deepEqual([401, 403, 404, 407, 408, 410, 425, 429, 500, 502, 503, 200].map(webhookStatusRefuses), Array(12).fill(false));
  assert.equal(
    snsErrorRefuses(Object.assign(new Error('Invalid parameter: Message too long'), { name: 'InvalidParameterException' })),
    true,
  );
  assert.equal(snsErrorRefuses({ name: 'Error', Code: 'InvalidParameter' }), true);
  assert.equal(snsErrorRefuses(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' })), false);
  assert.equal(snsErrorRefuses(Object.assign(new Error('x'), { name: 'ThrottledException' })), false);
  assert.equal(isDeliveryRefused(new Error('x')), false);
});

test('SNS: the SDK error for a message SNS refuses is a refusal, an unknown topic is not', async () => {
  const sns = await startFakeSns();
  const topic = sns.createTopic('palisade');
  const client = new SNSClient({ region: 'us-east-1', endpoint: sns.endpoint, credentials: sns.credentials, maxAttempts: 1 });
  const errorOf = async (input: { TopicArn: string; Message: string }) => {
    try {
      await client.send(new PublishCommand(input));
    } catch (err) {
      return err;
    }
    assert.fail('SNS took it');
  };
  try {
    const tooLong = (await errorOf({ TopicArn: topic, Message: 'x'.repeat(262_145) })) as Error;
    assert.match(tooLong.message, /Message too long/);
    assert.equal(snsErrorRefuses(tooLong), true, `${tooLong.name} counts as a refusal`);
    const missing = (await errorOf({ TopicArn: `${topic}-gone`, Message: '[]' })) as Error;
    assert.equal(snsErrorRefuses(missing), false, `${missing.name} is about the topic, not the events`);
  } finally {
    client.destroy();
    await sns.close();
  }
});

for (const make of testLocations()) {
  const loc = make();
  describe(`forwarder dead letters: ${loc.name}`, () => {
    let m: TestManager;
    let agent: string;
    let rx: Awaited<ReturnType<typeof startPickyReceiver>>;
    let dispatcher: ForwarderDispatcher;
    let hookId: string;
    let n = 0;

    const send = async (count: number) => {
      const events = Array.from({ length: count }, () => ({
        id: randomUUID(),
        time: m.clock.now.toISOString(),
        module: 'ips',
        type: 'ips.blocked',
        severity: 'high',
        message: `event ${n++}`,
      }));
      const res = await m.call('POST', '/api/agent/v1/events', { agent, body: { events } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return events.map((e) => e.id);
    };
    const delivery = async () => (await m.call('GET', `/api/v1/forwarders/${hookId}`)).body.delivery;
    const deadLetters = async () => (await m.call('GET', `/api/v1/forwarders/${hookId}/dead-letters`)).body;
    const later = (ms: number) => {
      m.clock.now = new Date(m.clock.now.getTime() + ms);
    };

    before(async () => {
      m = await testManager(loc);
      m.clock.now = new Date('2026-06-01T10:00:00.000Z');
      rx = await startPickyReceiver();
      const token = (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body.token;
      const act = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token, host: sampleHost('web-1') } });
      agent = `${act.body.agentId}:${act.body.agentSecret}`;
      const f = await m.call('POST', '/api/v1/forwarders', {
        body: { name: 'hook', type: 'webhook', settings: { url: rx.url }, secrets: { secret: SECRET } },
      });
      assert.equal(f.status, 201, JSON.stringify(f.body));
      hookId = f.body.id;
      assert.equal(f.body.delivery.deadLetters, 0);
      assert.deepEqual(f.body.deadLetterPolicy, { maxAttempts: null, maxAgeSeconds: null });
      dispatcher = new ForwarderDispatcher(m.stores, { backoffMs: 1000, maxBackoffMs: 8000, batchSize: 25 });
    });
    after(async () => {
      await dispatcher.stop();
      rx.server.closeAllConnections();
      await new Promise((r) => rx.server.close(r));
      await m.close();
    });

    test('an event the receiver refuses with 400 goes to the dead letters; the rest arrives, in order', async () => {
      const ids = await send(10);
      rx.poison.add(ids[3]!);
      await dispatcher.tick();
      assert.deepEqual(rx.accepted, [...ids.slice(0, 3), ...ids.slice(4)]);
      const d = await delivery();
      assert.deepEqual([d.pending, d.deadLetters, d.failures, d.lastError], [0, 1, 0, null]);
      const dl = await deadLetters();
      assert.equal(dl.total, 1);
      assert.equal(dl.next, null);
      assert.equal(dl.deadLetters.length, 1);
      const [one] = dl.deadLetters;
      assert.equal(one.eventId, ids[3]);
      assert.equal(one.reason, 'refused');
      assert.equal(one.lastError, `webhook ${new URL(rx.url).origin}/hook: HTTP 400`);
      assert.equal(one.attempts, 0);
      assert.deepEqual(
        [one.event.module, one.event.type, one.event.message, one.event.hostname],
        ['ips', 'ips.blocked', 'event 3', 'web-1'],
      );

      // and what comes after keeps flowing
      const more = await send(3);
      await dispatcher.tick();
      assert.deepEqual(rx.accepted.slice(-3), more);
    });

    test('the count is a Prometheus metric per tenant and forwarder', async () => {
      const res = await m.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(res.body, /# TYPE palisade_forwarder_dead_letters gauge/);
      assert.match(res.body, /palisade_forwarder_dead_letters\{tenant="primary",forwarder="hook"\} 1\n/);
    });

    test('retry puts it back at the head of the outbox; it is sent next', async () => {
      rx.poison.clear();
      rx.accepted.length = 0;
      const [{ id, eventId }] = (await deadLetters()).deadLetters;
      const res = await m.call('POST', `/api/v1/forwarders/${hookId}/dead-letters/retry`, { body: { ids: [id] } });
      assert.deepEqual([res.status, res.body.retried], [200, 1]);
      const queued = await send(1);
      await dispatcher.tick();
      assert.deepEqual(rx.accepted, [eventId, ...queued], 'the retried event first, in its old place');
      assert.equal((await delivery()).deadLetters, 0);
    });

    test('429, 503 and 401 are not refusals: retried with backoff, nothing dead-lettered', async () => {
      for (const status of [429, 503, 401]) {
        rx.status = status;
        const before = rx.requests;
        await send(2);
        later(10_000);
        await dispatcher.tick();
        assert.equal(rx.requests, before + 1, 'one attempt, no narrowing down');
        const d = await delivery();
        assert.equal(d.deadLetters, 0);
        assert.ok(d.pending >= 2);
        assert.match(d.lastError, new RegExp(`HTTP ${status}`));
      }
      rx.status = 0;
      later(10_000);
      await dispatcher.tick();
      const d = await delivery();
      assert.deepEqual([d.pending, d.deadLetters, d.failures], [0, 0, 0]);
    });

    test('maxAttempts: after that many failed attempts the events give up; later ones are still sent', async () => {
      const bad = await m.call('PUT', `/api/v1/forwarders/${hookId}/dead-letter-policy`, { body: { maxAttempts: 0, maxAgeSeconds: null } });
      assert.equal(bad.status, 400);
      const put = await m.call('PUT', `/api/v1/forwarders/${hookId}/dead-letter-policy`, { body: { maxAttempts: 2, maxAgeSeconds: null } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body.deadLetterPolicy, { maxAttempts: 2, maxAgeSeconds: null });
      rx.status = 503;
      const doomed = await send(2);
      await dispatcher.tick();
      assert.deepEqual([(await delivery()).pending, (await delivery()).deadLetters], [2, 0], 'first attempt failed: still queued');
      later(10_000);
      await dispatcher.tick();
      const d = await delivery();
      assert.deepEqual([d.pending, d.deadLetters], [0, 2]);
      const dl = await deadLetters();
      assert.deepEqual(
        dl.deadLetters.map((x: { eventId: string }) => x.eventId),
        doomed,
      );
      assert.ok(dl.deadLetters.every((x: { reason: string; attempts: number }) => x.reason === 'max-attempts' && x.attempts === 2));
      assert.match(dl.deadLetters[0].lastError, /^2 attempts failed; last error: webhook .*: HTTP 503$/);

      rx.status = 0;
      rx.accepted.length = 0;
      const fresh = await send(1);
      later(10_000);
      await dispatcher.tick();
      assert.deepEqual(rx.accepted, fresh);
    });

    test('maxAgeSeconds: an event queued longer than that is dead-lettered without being sent again', async () => {
      await m.call('PUT', `/api/v1/forwarders/${hookId}/dead-letter-policy`, { body: { maxAttempts: null, maxAgeSeconds: 60 } });
      rx.status = 503;
      const [old] = await send(1);
      await dispatcher.tick();
      later(61_000);
      const before = rx.requests;
      await dispatcher.tick();
      assert.equal(rx.requests, before, 'not sent once expired');
      const dl = await deadLetters();
      const mine = dl.deadLetters.find((x: { eventId: string }) => x.eventId === old);
      assert.equal(mine.reason, 'max-age');
      assert.match(mine.lastError, /^not delivered within 60 s; last error: webhook .*: HTTP 503$/);
      rx.status = 0;
      await m.call('PUT', `/api/v1/forwarders/${hookId}/dead-letter-policy`, { body: { maxAttempts: null, maxAgeSeconds: null } });
    });

    test('paging, roles, and discard', async () => {
      const all = await deadLetters();
      assert.equal(all.total, 3);
      const page1 = (await m.call('GET', `/api/v1/forwarders/${hookId}/dead-letters?limit=2`)).body;
      assert.equal(page1.deadLetters.length, 2);
      const page2 = (await m.call('GET', `/api/v1/forwarders/hook/dead-letters?limit=2&after=${page1.next}`)).body;
      assert.deepEqual(
        [...page1.deadLetters, ...page2.deadLetters].map((x: { id: string }) => x.id),
        all.deadLetters.map((x: { id: string }) => x.id),
        'pages in outbox order, by name as well as id',
      );
      const store = (await m.stores.tenant('primary'))!;
      const { secret: operator } = await store.apiKeys.create('op', 'operator');
      const { secret: auditor } = await store.apiKeys.create('aud', 'auditor');
      assert.equal((await m.call('GET', `/api/v1/forwarders/${hookId}/dead-letters`, { key: auditor })).status, 200);
      assert.equal((await m.call('POST', `/api/v1/forwarders/${hookId}/dead-letters/retry`, { key: auditor, body: {} })).status, 403);
      assert.equal((await m.call('POST', `/api/v1/forwarders/${hookId}/dead-letters/discard`, { key: operator, body: {} })).status, 403);
      assert.equal((await m.call('GET', '/api/v1/forwarders/nope/dead-letters')).status, 404);

      const one = await m.call('POST', `/api/v1/forwarders/${hookId}/dead-letters/discard`, { body: { ids: [all.deadLetters[0].id] } });
      assert.equal(one.body.discarded, 1);
      const rest = await m.call('POST', `/api/v1/forwarders/${hookId}/dead-letters/discard`, { body: {} });
      assert.equal(rest.body.discarded, 2);
      assert.equal((await delivery()).deadLetters, 0);
      await dispatcher.tick();
      assert.equal((await delivery()).pending, 0, 'discarded ones are not sent');
    });

    test('deleting the forwarder drops its dead letters too', async () => {
      const ids = await send(1);
      rx.poison.add(ids[0]!);
      await dispatcher.tick();
      assert.equal((await delivery()).deadLetters, 1);
      assert.equal((await m.call('DELETE', `/api/v1/forwarders/${hookId}`)).status, 204);
      const store = (await m.stores.tenant('primary'))!;
      assert.equal(await store.forwarders.countDeadLetters(hookId), 0);
    });
  });
}
