import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningManager, startManager } from '@palisade/manager';
import { forwarderFromOptions } from './forwarders-commands.ts';
import { CliError } from './output.ts';
import { runCli } from './testing/run-cli.ts';

// `palisade forwarders …` as real processes against a real manager (whose own dispatcher
// delivers), and a TCP syslog receiver on loopback.
const dir = mkdtempSync(join(tmpdir(), 'palisade-fwd-cli-'));
let manager: RunningManager;
let apiKey: string;
const received: string[] = [];
const sockets = new Set<Socket>();
const receiver = createServer((s) => {
  sockets.add(s);
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString('utf8');
    // Octet counting, ASCII payloads in this test: `LEN SP MSG`.
    for (let m = /^(\d+) /.exec(buf); m && buf.length >= m[0].length + Number(m[1]); m = /^(\d+) /.exec(buf)) {
      received.push(buf.slice(m[0].length, m[0].length + Number(m[1])));
      buf = buf.slice(m[0].length + Number(m[1]));
    }
  });
  s.on('close', () => sockets.delete(s));
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['--url', manager.url, '--api-key', apiKey, ...args], { env });

before(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  manager = await startManager({ dataDir: dir, host: '127.0.0.1', port: 0, tls: false, logLevel: 'error' });
  apiKey = manager.createdAdminKey!;
});
after(async () => {
  await manager.stop();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('create, list, test and delete through the CLI; the running manager forwards ingested events', async () => {
  const port = (receiver.address() as { port: number }).port;
  const created = await cli([
    '--json',
    'forwarders',
    'create',
    'siem',
    '--type',
    'syslog',
    '--protocol',
    'tcp',
    '--address',
    `127.0.0.1:${port}`,
    '--format',
    'json',
    '--module',
    'ips',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const f = JSON.parse(created.stdout);
  assert.deepEqual([f.name, f.type, f.settings.format, f.filter], ['siem', 'syslog', 'json', { modules: ['ips'] }]);

  const hook = await cli(['forwarders', 'create', '--type', 'webhook', '--url', 'http://127.0.0.1:9/hook'], {
    PALISADE_FORWARDER_SECRET: 'cli-secret-value-0123456789',
  });
  assert.equal(hook.code, 0, hook.stderr);
  assert.match(hook.stdout, /created forwarder \S+ webhook-127\.0\.0\.1:9/);

  const list = await cli(['--json', 'forwarders', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(!list.stdout.includes('cli-secret-value-0123456789'), 'list never shows a secret');
  assert.deepEqual(
    JSON.parse(list.stdout).forwarders.map((x: { name: string }) => x.name),
    ['siem', 'webhook-127.0.0.1:9'],
  );

  const ok = await cli(['forwarders', 'test', 'siem']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^delivered test event /);
  const bad = await cli(['--json', 'forwarders', 'test', 'webhook-127.0.0.1:9']);
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.stdout).delivered, false);

  // An event stored by the manager is delivered by its own background dispatcher.
  const store = (await manager.stores.tenant('primary'))!;
  const { computer } = await store.computers.activate(
    { hostname: 'web-9', platform: 'linux', ips: ['10.1.1.1'], agentVersion: '0.1.0' },
    { policyId: null, group: null, heartbeatSeconds: 30 },
  );
  const id = randomUUID();
  await store.events.ingest(computer.id, [
    { id, time: new Date().toISOString(), module: 'ips', type: 'ips.blocked', severity: 'high', message: 'blocked', ruleId: '942100' },
    {
      id: randomUUID(),
      time: new Date().toISOString(),
      module: 'firewall',
      type: 'firewall.deny',
      severity: 'high',
      message: 'filtered out',
    },
  ]);
  const deadline = Date.now() + 15_000;
  while (!received.some((r) => r.includes(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const record = JSON.parse(received.find((r) => r.includes(id))!.replace(/^<\d+>1 \S+ \S+ \S+ \S+ \S+ \S+ /, ''));
  assert.deepEqual([record.EventType, record.EventID, record.Hostname, record.SignatureID], ['PayloadLog', id, 'web-9', 3_943_100]);
  assert.ok(!received.some((r) => r.includes('filtered out')));

  const del = await cli(['forwarders', 'delete', 'siem']);
  assert.equal(del.code, 0, del.stderr);
  const missing = await cli(['forwarders', 'delete', 'siem']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error CLI_FORWARDER_NOT_FOUND/);
});

test('dead letters: an event the webhook refuses is listed, retried and discarded through the CLI', async () => {
  const accepted: string[] = [];
  let refuse = true;
  const hookServer = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const records = JSON.parse(body) as { EventID: string; Description: string }[];
      if (refuse && records.some((r) => r.Description === 'poison')) return void res.writeHead(400).end();
      accepted.push(...records.map((r) => r.EventID));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`;
    const created = await cli(['forwarders', 'create', 'picky', '--type', 'webhook', '--url', url, '--module', 'ips'], {
      PALISADE_FORWARDER_SECRET: 'cli-secret-value-0123456789',
    });
    assert.equal(created.code, 0, created.stderr);
    const store = (await manager.stores.tenant('primary'))!;
    const { computer } = await store.computers.activate(
      { hostname: 'web-10', platform: 'linux', ips: ['10.1.1.2'], agentVersion: '0.1.0' },
      { policyId: null, group: null, heartbeatSeconds: 30 },
    );
    const ev = (message: string) => ({
      id: randomUUID(),
      time: new Date().toISOString(),
      module: 'ips' as const,
      type: 'ips.blocked',
      severity: 'high' as const,
      message,
    });
    const events = [ev('first'), ev('poison'), ev('third')];
    await store.events.ingest(computer.id, events);
    const deadline = Date.now() + 15_000;
    while (accepted.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(accepted, [events[0]!.id, events[2]!.id], 'the others arrive, in order');

    const list = await cli(['forwarders', 'dead-letters', 'list', 'picky', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const page = JSON.parse(list.stdout);
    assert.equal(page.total, 1);
    assert.deepEqual([page.deadLetters[0].eventId, page.deadLetters[0].reason], [events[1]!.id, 'refused']);
    assert.match(page.deadLetters[0].lastError, /HTTP 400$/);
    const table = await cli(['forwarders', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /DEADLETTERS/);
    assert.match(table.stdout, /picky +webhook +\S+ +true +0 +1 /);

    const vague = await cli(['forwarders', 'dead-letters', 'retry', 'picky']);
    assert.equal(vague.code, 2);
    assert.match(vague.stderr, /--id ID \(repeatable\) or --all/);
    refuse = false;
    const retried = await cli(['forwarders', 'dead-letters', 'retry', 'picky', '--all', '--json']);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(JSON.parse(retried.stdout).retried, 1);
    while (accepted.length < 3 && Date.now() < deadline + 15_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(accepted[2], events[1]!.id);

    const discarded = await cli(['forwarders', 'dead-letters', 'discard', 'picky', '--all', '--json']);
    assert.deepEqual([discarded.code, JSON.parse(discarded.stdout).discarded], [0, 0]);

    const policy = await cli(['forwarders', 'dead-letters', 'policy', 'picky', '--max-attempts', '5', '--max-age', '7d', '--json']);
    assert.equal(policy.code, 0, policy.stderr);
    assert.deepEqual(JSON.parse(policy.stdout).deadLetterPolicy, { maxAttempts: 5, maxAgeSeconds: 604_800 });
    const badAge = await cli(['forwarders', 'dead-letters', 'policy', 'picky', '--max-attempts', 'none', '--max-age', '7w']);
    assert.equal(badAge.code, 2);
    assert.match(badAge.stderr, /--max-age wants a duration/);
  } finally {
    hookServer.closeAllConnections();
    await new Promise((r) => hookServer.close(r));
  }
});

test('flags are checked before anything is sent', () => {
  assert.throws(
    () => forwarderFromOptions(undefined, { type: 'syslog', protocol: 'quic', address: 'x:1' }),
    (e) => e instanceof CliError && e.code === 'CLI_BAD_OPTION',
  );
  assert.throws(() => forwarderFromOptions(undefined, { type: 'webhook', url: 'http://x' }, {}), /--secret/);
  assert.deepEqual(
    forwarderFromOptions(
      undefined,
      { type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:123456789012:t', accessKeyId: 'AKIAEXAMPLE000000000' },
      { PALISADE_AWS_SECRET_ACCESS_KEY: 'k' },
    ),
    {
      filter: {},
      name: 'sns-t',
      type: 'sns',
      settings: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:t', accessKeyId: 'AKIAEXAMPLE000000000' },
      secrets: { secretAccessKey: 'k' },
    },
  );
});
