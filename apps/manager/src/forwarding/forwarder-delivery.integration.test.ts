import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type FakeSns, startFakeSns } from '../testing/fake-aws/sns-service.ts';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';
import { ForwarderDispatcher } from './forwarder-dispatcher.ts';
import { parseCef, parseSyslog } from './testing/syslog-parser.ts';
import { type SyslogReceiver, startStreamReceiver, startUdpReceiver } from './testing/syslog-receivers.ts';
import { startWebhookReceiver, type WebhookReceiver } from './testing/webhook-receiver.ts';

const SECRET = 'webhook-shared-secret-0123456789';

// From the agent API to the receivers, through the outbox and the dispatcher, on both backends.
for (const make of testLocations()) {
  const loc = make();
  describe(`event forwarding end to end: ${loc.name}`, () => {
    let m: TestManager;
    let agent: string;
    let tcp: SyslogReceiver;
    let udp: SyslogReceiver;
    let hook: WebhookReceiver;
    let sns: FakeSns;
    let dispatcher: ForwarderDispatcher;
    const ids: Record<string, string> = {};
    let n = 0;

    const send = async (module: string, severity: string, extra: Record<string, unknown> = {}) => {
      const event = {
        id: randomUUID(),
        time: m.clock.now.toISOString(),
        module,
        type: `${module}.test`,
        severity,
        message: `event ${n++} | a=b \\ c`,
        ...extra,
      };
      const res = await m.call('POST', '/api/agent/v1/events', { agent, body: { events: [event] } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return event.id;
    };
    const create = async (body: Record<string, unknown>) => {
      const res = await m.call('POST', '/api/v1/forwarders', { body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };

    before(async () => {
      m = await testManager(loc);
      m.clock.now = new Date('2026-05-01T10:00:00.000Z');
      tcp = await startStreamReceiver();
      udp = await startUdpReceiver();
      hook = await startWebhookReceiver(SECRET, { now: () => m.clock.now.getTime() });
      sns = await startFakeSns();
      const topic = sns.createTopic('palisade');
      const token = (await m.call('POST', '/api/v1/activation-tokens', { body: { group: 'web' } })).body.token;
      const act = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token, host: sampleHost('web-1') } });
      agent = `${act.body.agentId}:${act.body.agentSecret}`;
      ids.tcp = await create({
        name: 'siem-tcp',
        type: 'syslog',
        settings: { protocol: 'tcp', address: `127.0.0.1:${tcp.port}`, format: 'cef' },
      });
      ids.udp = await create({
        name: 'fw-udp',
        type: 'syslog',
        settings: { protocol: 'udp', address: `127.0.0.1:${udp.port}`, format: 'leef', rfc: '3164' },
        filter: { modules: ['firewall'] },
      });
      ids.hook = await create({
        name: 'hook',
        type: 'webhook',
        settings: { url: hook.url },
        secrets: { secret: SECRET },
        filter: { minSeverity: 'high' },
      });
      ids.sns = await create({
        name: 'sns',
        type: 'sns',
        settings: { topicArn: topic, endpoint: sns.endpoint, accessKeyId: sns.credentials.accessKeyId },
        secrets: { secretAccessKey: sns.credentials.secretAccessKey },
        filter: { groups: ['web'] },
      });
      dispatcher = new ForwarderDispatcher(m.stores, { backoffMs: 1000, maxBackoffMs: 8000, batchSize: 25 });
    });
    after(async () => {
      await dispatcher.stop();
      await Promise.all([tcp.close(), udp.close(), hook.close(), sns.close()]);
      await m.close();
    });

    test('the API validates forwarders and never returns secrets', async () => {
      const bad = await m.call('POST', '/api/v1/forwarders', { body: { name: 'x', type: 'webhook', settings: { url: hook.url } } });
      assert.equal(bad.status, 400);
      const tlsOnly = await m.call('POST', '/api/v1/forwarders', {
        body: { name: 'x', type: 'syslog', settings: { protocol: 'udp', address: '127.0.0.1:1', format: 'cef', caPem: 'x' } },
      });
      assert.deepEqual([tlsOnly.status, tlsOnly.body.code, tlsOnly.body.field], [400, 'FORWARDER_INVALID', '/settings/caPem']);
      const list = await m.call('GET', '/api/v1/forwarders');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.forwarders.map((f: { name: string }) => f.name),
        ['fw-udp', 'hook', 'siem-tcp', 'sns'],
      );
      const text = JSON.stringify(list.body);
      assert.ok(!text.includes(SECRET) && !text.includes(sns.credentials.secretAccessKey));
      assert.deepEqual(list.body.forwarders.find((f: { name: string }) => f.name === 'hook').secretsSet, ['secret']);
      const { secret: operator } = await (await m.stores.tenant('primary'))!.apiKeys.create('op', 'operator');
      assert.equal(
        (
          await m.call('POST', '/api/v1/forwarders', {
            key: operator,
            body: { name: 'y', type: 'syslog', settings: { protocol: 'udp', address: '127.0.0.1:1', format: 'cef' } },
          })
        ).status,
        403,
      );
    });

    test('the test action delivers one event now, outside the outbox', async () => {
      const res = await m.call('POST', `/api/v1/forwarders/${ids.tcp}/test`);
      assert.equal(res.body.delivered, true);
      const got = await tcp.waitFor(1);
      const cef = parseCef(parseSyslog(got[0]!).msg);
      assert.deepEqual([cef.signatureId, cef.extension.cs2, cef.extension.externalId], ['1000001', 'forwarder-test', res.body.eventId]);
      tcp.messages.length = 0;
      const hookTest = await m.call('POST', `/api/v1/forwarders/${ids.hook}/test`);
      assert.equal(hookTest.body.delivered, true);
      assert.equal(hook.accepted.length, 1);
      hook.accepted.length = 0;
      hook.deliveries.length = 0;
    });

    test('events reach every forwarder whose filter they match', async () => {
      const a = await send('ips', 'high', { ruleId: '942100', details: { clientAddress: '203.0.113.9' } });
      const b = await send('firewall', 'low', { details: { src: '192.0.2.1', dstPort: 22 } });
      const c = await send('integrity', 'critical');
      await dispatcher.tick();
      assert.deepEqual(
        (await tcp.waitFor(3)).map((x) => parseCef(parseSyslog(x).msg).extension.externalId),
        [a, b, c],
      );
      assert.deepEqual(
        (await udp.waitFor(1)).map((x) => parseSyslog(x).rfc),
        ['3164'],
      );
      assert.deepEqual(
        hook.accepted.map((r) => r.EventID),
        [a, c],
      );
      assert.ok(hook.deliveries.every((d) => d.valid));
      assert.deepEqual(
        sns.published.flatMap((p) => JSON.parse(p.message).map((r: { EventID: string }) => r.EventID)),
        [a, b, c],
      );
      const fw = await m.call('GET', `/api/v1/forwarders/${ids.tcp}`);
      assert.deepEqual([fw.body.delivery.pending, fw.body.delivery.failures], [0, 0]);
    });

    test('a 60-second receiver outage loses nothing and replays in order', async () => {
      tcp.messages.length = 0;
      hook.accepted.length = 0;
      const port = tcp.port;
      await tcp.close();
      hook.status = 503;
      sns.setAvailable(false);
      // One event a second for 60 seconds of (test) clock, the dispatcher running all along.
      const sent: string[] = [];
      const sentHigh: string[] = [];
      const udpBefore = udp.messages.length;
      for (let s = 0; s < 60; s++) {
        // A forwarder whose receiver is up is not held back by the others' outage.
        if (s === 30) {
          sent.push(await send('firewall', 'low'));
          await dispatcher.tick();
          await udp.waitFor(udpBefore + 1);
        }
        const high = s % 3 === 0;
        const id = await send(high ? 'ips' : 'log-inspection', high ? 'critical' : 'medium');
        sent.push(id);
        if (high) sentHigh.push(id);
        await dispatcher.tick();
        m.clock.now = new Date(m.clock.now.getTime() + 1000);
      }
      const down = (await m.call('GET', `/api/v1/forwarders/${ids.tcp}`)).body.delivery;
      assert.equal(down.pending, 61);
      assert.ok(down.failures >= 5, `retried with backoff (${down.failures} attempts in 60 s)`);
      assert.ok(down.failures < 60, 'backoff: not one attempt per tick');
      assert.match(down.lastError, /ECONNREFUSED/);
      assert.equal(
        (await m.call('GET', `/api/v1/forwarders/${ids.hook}`)).body.delivery.lastError,
        `webhook ${new URL(hook.url).origin}/hooks/palisade: HTTP 503`,
      );

      // The receivers come back (the syslog one on the same port); after the backoff everything arrives.
      tcp = await startStreamReceiver({ port });
      hook.status = 204;
      sns.setAvailable(true);
      const published = sns.published.length;
      m.clock.now = new Date(m.clock.now.getTime() + 8000);
      await dispatcher.tick();
      assert.deepEqual(
        (await tcp.waitFor(61)).map((x) => parseCef(parseSyslog(x).msg).extension.externalId),
        sent,
      );
      assert.deepEqual(
        hook.accepted.map((r) => r.EventID),
        sentHigh,
      );
      assert.deepEqual(
        sns.published.slice(published).flatMap((p) => JSON.parse(p.message).map((r: { EventID: string }) => r.EventID)),
        sent,
      );
      for (const id of [ids.tcp, ids.hook, ids.sns]) {
        const d = (await m.call('GET', `/api/v1/forwarders/${id}`)).body.delivery;
        assert.deepEqual([d.pending, d.failures, d.lastError], [0, 0, null]);
      }
    });

    test('two nodes draining at once deliver each event once, in order (the lease)', async () => {
      tcp.messages.length = 0;
      const other = new ForwarderDispatcher(m.stores, { batchSize: 3 });
      const mine = new ForwarderDispatcher(m.stores, { batchSize: 3 });
      const sent: string[] = [];
      for (let i = 0; i < 30; i++) sent.push(await send('ips', 'info'));
      for (let i = 0; i < 5; i++) await Promise.all([mine.tick(), other.tick()]);
      assert.deepEqual(
        (await tcp.waitFor(30)).map((x) => parseCef(parseSyslog(x).msg).extension.externalId),
        sent,
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(tcp.messages.length, 30, 'no duplicates');
    });

    test('deleting a forwarder stops its deliveries', async () => {
      assert.equal((await m.call('DELETE', `/api/v1/forwarders/${ids.udp}`)).status, 204);
      assert.equal((await m.call('GET', `/api/v1/forwarders/${ids.udp}`)).status, 404);
      const before = udp.messages.length;
      await send('firewall', 'high');
      await dispatcher.tick();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(udp.messages.length, before);
    });
  });
}
