import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SyslogSender } from './syslog-sender.ts';
import { sampleEvent } from './testing/sample-event.ts';
import { parseCef, parseLeef, parseSyslog } from './testing/syslog-parser.ts';
import { startStreamReceiver, startUdpReceiver } from './testing/syslog-receivers.ts';
import { TestCa } from './testing/test-ca.ts';

const events = [
  sampleEvent({ message: 'first | with = hostile \\ and\nnewline' }),
  sampleEvent({
    module: 'firewall',
    type: 'firewall.deny',
    ruleId: 'drop-ssh',
    severity: 'low',
    details: { src: '192.0.2.1', dstPort: 22 },
  }),
  sampleEvent({
    module: 'anti-malware',
    type: 'malware.quarantined',
    ruleId: undefined,
    severity: 'critical',
    details: { path: '/tmp/eicar.com', signature: 'Eicar-Test-Signature' },
  }),
];

describe('syslog over UDP, TCP and TLS to receivers on loopback', () => {
  const ca = new TestCa();
  const server = ca.issue('syslog.test', { dns: ['syslog.test', 'localhost'], ips: ['127.0.0.1'] });

  test('UDP, RFC 5424, CEF: one datagram per event, parsed back', async () => {
    const rx = await startUdpReceiver();
    try {
      await new SyslogSender({ protocol: 'udp', address: `127.0.0.1:${rx.port}`, format: 'cef' }, {}).send(events);
      const got = (await rx.waitFor(3)).map(parseSyslog);
      // UDP may reorder in general; on loopback it does not, and the content is what counts here.
      assert.deepEqual(
        got.map((r) => [r.rfc, r.facility, r.severity, r.hostname, r.msgId]),
        [
          ['5424', 16, 3, 'web-1', 'ips'],
          ['5424', 16, 5, 'web-1', 'firewall'],
          ['5424', 16, 2, 'web-1', 'anti-malware'],
        ],
      );
      const cef = got.map((r) => parseCef(r.msg));
      assert.equal(cef[0]!.extension.msg, 'first | with = hostile \\ and\nnewline');
      assert.deepEqual([cef[1]!.signatureId, cef[1]!.extension.src, cef[1]!.extension.dpt], ['4000001', '192.0.2.1', '22']);
      assert.deepEqual(
        [cef[2]!.signatureId, cef[2]!.severity, cef[2]!.extension.filePath, cef[2]!.extension.cs5],
        ['2000002', '10', '/tmp/eicar.com', 'Eicar-Test-Signature'],
      );
    } finally {
      await rx.close();
    }
  });

  test('TCP, RFC 3164, LEEF: octet-counted frames in order', async () => {
    const rx = await startStreamReceiver();
    try {
      await new SyslogSender({ protocol: 'tcp', address: `127.0.0.1:${rx.port}`, format: 'leef', rfc: '3164', facility: 10 }, {}).send(
        events,
      );
      const got = (await rx.waitFor(3)).map(parseSyslog);
      assert.deepEqual(
        got.map((r) => [r.rfc, r.facility, r.appName]),
        Array(3).fill(['3164', 10, 'palisade']),
      );
      const leef = got.map((r) => parseLeef(r.msg));
      assert.deepEqual(
        leef.map((l) => l.attributes.eventId),
        events.map((e) => e.id),
      );
      assert.equal(leef[0]!.attributes.msg, events[0]!.message);
    } finally {
      await rx.close();
    }
  });

  test('TCP to a closed port fails (the batch stays queued)', async () => {
    const rx = await startStreamReceiver();
    const port = rx.port;
    await rx.close();
    await assert.rejects(
      new SyslogSender({ protocol: 'tcp', address: `127.0.0.1:${port}`, format: 'json' }, {}).send(events),
      /ECONNREFUSED/,
    );
  });

  describe('TLS', () => {
    let rx: Awaited<ReturnType<typeof startStreamReceiver>>;
    before(async () => {
      rx = await startStreamReceiver({ tls: { key: server.key, cert: server.cert } });
    });
    after(() => rx.close());

    test("with the receiver's CA: JSON events arrive, verified by name and by address", async () => {
      const before = rx.messages.length;
      await new SyslogSender({ protocol: 'tls', address: `127.0.0.1:${rx.port}`, format: 'json', caPem: ca.cert }, {}).send(
        events.slice(0, 1),
      );
      await new SyslogSender({ protocol: 'tls', address: `localhost:${rx.port}`, format: 'json', caPem: ca.cert }, {}).send(
        events.slice(1, 2),
      );
      const got = (await rx.waitFor(before + 2)).slice(before).map((m) => JSON.parse(parseSyslog(m).msg));
      assert.deepEqual(
        got.map((g) => [g.EventType, g.HostID, g.TenantID]),
        [
          ['PayloadLog', events[0]!.computerId, 'primary'],
          ['PacketLog', events[1]!.computerId, 'primary'],
        ],
      );
    });

    test('a receiver signed by another CA, or a wrong server name, is refused', async () => {
      const other = new TestCa('other');
      await assert.rejects(
        new SyslogSender({ protocol: 'tls', address: `127.0.0.1:${rx.port}`, format: 'cef', caPem: other.cert }, {}).send(events),
        /self.signed|unable to verify|certificate/i,
      );
      await assert.rejects(
        new SyslogSender(
          { protocol: 'tls', address: `127.0.0.1:${rx.port}`, format: 'cef', caPem: ca.cert, serverName: 'not-the-name.test' },
          {},
        ).send(events),
        /altnames|Hostname\/IP does not match/i,
      );
    });
  });

  test('mutual TLS: the client certificate is presented; without it the receiver refuses', async () => {
    const clientCa = new TestCa('clients');
    const client = clientCa.issue('palisade-manager', { client: true });
    const rx = await startStreamReceiver({ tls: { key: server.key, cert: server.cert, clientCa: clientCa.cert } });
    try {
      await new SyslogSender(
        { protocol: 'tls', address: `127.0.0.1:${rx.port}`, format: 'cef', caPem: ca.cert, clientCertPem: client.cert },
        { clientKeyPem: client.key },
      ).send(events);
      await rx.waitFor(3);
      assert.deepEqual(rx.clientNames, ['palisade-manager']);
      await assert.rejects(
        new SyslogSender({ protocol: 'tls', address: `127.0.0.1:${rx.port}`, format: 'cef', caPem: ca.cert }, {}).send(events),
      );
      assert.equal(rx.messages.length, 3);
    } finally {
      await rx.close();
    }
  });
});
