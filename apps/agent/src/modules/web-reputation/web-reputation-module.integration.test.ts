import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../../agent-module.ts';
import { DNS_TYPE } from './dns-message.ts';
import { WebReputationModule } from './web-reputation-module.ts';

// The module on loopback, as an explicit proxy and a DNS filter: real HTTP servers, a real
// CONNECT client, and a local UDP resolver standing in for the upstream DNS server.
const dir = mkdtempSync(join(tmpdir(), 'palisade-webrep-'));
const feed = join(dir, 'blocklist.txt');
const allow = join(dir, 'allow.txt');
let web: http.Server;
let webPort = 0;
let resolver: dgram.Socket;
let resolverPort = 0;

before(async () => {
  writeFileSync(feed, '# palisade: risk=dangerous category=malware\nevil.example\nbad.example\n');
  writeFileSync(allow, 'good.evil.example\n');
  web = http.createServer((req, res) => res.end(`site ${req.headers.host}`));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as AddressInfo).port;
  // Upstream resolver: answers every A query with 192.0.2.10.
  resolver = dgram.createSocket('udp4');
  resolver.on('message', (msg, rinfo) => {
    const answer = Buffer.concat([msg, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 10])]);
    answer[2] = 0x81;
    answer[3] = 0x80;
    answer.writeUInt16BE(1, 6);
    resolver.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => resolver.bind(0, '127.0.0.1', () => r()));
  resolverPort = resolver.address().port;
});
after(() => {
  web.close();
  resolver.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(mode: ModuleConfig['mode'] = 'prevent', extra: Record<string, unknown> = {}): ModuleConfig {
  return {
    enabled: true,
    mode,
    settings: {
      level: 'medium',
      feeds: [{ file: feed }, { file: allow, list: 'allow' }],
      reloadSeconds: 1,
      proxy: { listen: { host: '127.0.0.1', port: 0 } },
      dns: { listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: resolverPort }, answer: 'sinkhole' },
      hosts: { 'evil.example': '127.0.0.1', 'good.evil.example': '127.0.0.1', 'fine.example': '127.0.0.1' },
      ...extra,
    },
  };
}

async function started(mode: ModuleConfig['mode'] = 'prevent') {
  const events: ModuleEventInput[] = [];
  const m = new WebReputationModule({ eventWindowMs: 60_000, socketOwners: false });
  const c = config(mode);
  assert.deepEqual(m.configure(c), []);
  const ctx: ModuleContext = {
    emit: (e) => {
      events.push(e);
      return { ...e, id: String(events.length), time: new Date().toISOString(), module: 'web-reputation' } as never;
    },
    logger: silentLogger(),
    dataDir: dir,
    config: c,
  };
  await m.start(ctx);
  return { m, events, ports: m.listeningPorts() };
}

function viaProxy(proxyPort: number, url: string): Promise<{ status: number; body: string; blocked: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: proxyPort, method: 'GET', path: url, headers: { host: new URL(url).host } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, blocked: res.headers['x-palisade-blocked'] === 'web-reputation' }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function connect(proxyPort: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n')) {
        s.destroy();
        resolve(got.split('\r\n')[0]!);
      }
    });
    s.on('error', reject);
  });
}

function dnsQuery(port: number, name: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no DNS answer'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(
      Buffer.concat([Buffer.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, DNS_TYPE.A, 0, 1])]),
      port,
      '127.0.0.1',
    );
  });
}
const lastFour = (b: Buffer) => [...b.subarray(b.length - 4)].join('.');

test('explicit proxy: a listed host gets the block page, others pass; CONNECT is judged by host; allow beats block', async () => {
  const { m, events, ports } = await started();
  try {
    const blocked = await viaProxy(ports.proxy!, `http://evil.example:${webPort}/download/x.exe`);
    assert.equal(blocked.status, 403);
    assert.ok(blocked.blocked);
    assert.match(blocked.body, /evil\.example.*blocked|blocked.*evil\.example/s);
    const ok = await viaProxy(ports.proxy!, `http://fine.example:${webPort}/`);
    assert.deepEqual([ok.status, ok.body], [200, `site fine.example:${webPort}`]);
    const allowed = await viaProxy(ports.proxy!, `http://good.evil.example:${webPort}/`);
    assert.equal(allowed.status, 200, 'the allow list wins over the blocked parent domain');
    assert.match(await connect(ports.proxy!, 'bad.example:443'), /^HTTP\/1\.1 403/);
    assert.match(await connect(ports.proxy!, `fine.example:${webPort}`), /^HTTP\/1\.1 200/);
    const ev = events.filter((e) => e.type === 'webrep.blocked');
    assert.deepEqual(
      ev.map((e) => [e.details?.via, e.details?.risk, e.details?.category]),
      [
        ['http', 'dangerous', 'malware'],
        ['connect', 'dangerous', 'malware'],
      ],
    );
    assert.equal(ev[0]!.severity, 'high');
    await viaProxy(ports.proxy!, `http://evil.example:${webPort}/download/x.exe`);
    assert.equal(events.filter((e) => e.type === 'webrep.blocked').length, 2, 'a repeat within the window is counted, not re-sent');
  } finally {
    await m.stop();
  }
});

test('DNS filter: listed names get the sinkhole, others the upstream answer', async () => {
  const { m, events, ports } = await started();
  try {
    assert.equal(lastFour(await dnsQuery(ports.dns!, 'www.evil.example')), '0.0.0.0');
    assert.equal(lastFour(await dnsQuery(ports.dns!, 'fine.example')), '192.0.2.10');
    assert.deepEqual(
      events.filter((e) => e.type === 'webrep.blocked').map((e) => e.details?.via),
      ['dns'],
    );
  } finally {
    await m.stop();
  }
});

test('detect mode reports and lets everything through', async () => {
  const { m, events, ports } = await started('detect');
  try {
    assert.equal((await viaProxy(ports.proxy!, `http://evil.example:${webPort}/`)).status, 200);
    assert.equal(lastFour(await dnsQuery(ports.dns!, 'evil.example')), '192.0.2.10');
    assert.deepEqual(
      events.map((e) => [e.type, e.details?.action, e.details?.via]),
      [
        ['webrep.detected', 'detect', 'http'],
        ['webrep.detected', 'detect', 'dns'],
      ],
    );
  } finally {
    await m.stop();
  }
});

test('a feed update that does not parse keeps the previous version; a good one replaces it; status flags stale feeds', async () => {
  const { m, events, ports } = await started();
  try {
    writeFileSync(feed, ''); // a download cut short
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal((await viaProxy(ports.proxy!, `http://evil.example:${webPort}/`)).status, 403, 'the old list is still in force');
    writeFileSync(feed, '<html>503 Service Unavailable</html>\n'); // an error page instead of the list
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal((await viaProxy(ports.proxy!, `http://evil.example:${webPort}/`)).status, 403, 'still the old list');
    assert.equal(events.filter((e) => e.type === 'webrep.feed-refused' && e.details?.applied === false).length, 2);
    writeFileSync(feed, 'fine.example\n');
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal((await viaProxy(ports.proxy!, `http://evil.example:${webPort}/`)).status, 200, 'the new list replaced the old one');
    assert.equal((await viaProxy(ports.proxy!, `http://fine.example:${webPort}/`)).status, 403);
    assert.equal(m.status().reason, undefined);
    const old = (Date.now() - 72 * 3600_000) / 1000;
    utimesSync(allow, old, old);
    await new Promise((r) => setTimeout(r, 1600)); // the next reload sees the file's age
    assert.match(m.status().reason ?? '', /stale feeds \(older than 48 h\): .*allow\.txt/);
  } finally {
    await m.stop();
  }
});

test('bad settings are refused with their path', () => {
  const m = new WebReputationModule();
  // Enabled without a proxy or DNS filter (the quickstart policy): valid, and the status says why nothing happens.
  assert.deepEqual(m.configure({ enabled: true, mode: 'detect', settings: {} }), []);
  assert.match(
    m.configure({ enabled: true, mode: 'prevent', settings: { level: 'paranoid', proxy: { listen: { port: 0 } } } })[0]?.message ?? '',
    /level/,
  );
  assert.deepEqual(m.configure({ enabled: false, mode: 'off', settings: {} }), []);
});

test('enabled with nothing to enforce: running, and the status says so', async () => {
  const m = new WebReputationModule();
  const c: ModuleConfig = { enabled: true, mode: 'detect', settings: {} };
  await m.start({ emit: (e) => e as never, logger: silentLogger(), dataDir: dir, config: c });
  assert.equal(m.status().state, 'running');
  assert.match(m.status().reason ?? '', /nothing is enforced/);
  await m.stop();
});
