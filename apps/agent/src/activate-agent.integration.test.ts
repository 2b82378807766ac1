import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HostFacts } from '@palisade/protocol';
import { activateAgent } from './activate-agent.ts';
import { isAgentError } from './agent-error.ts';
import { silentLogger } from './agent-logger.ts';
import { runAgent } from './run-agent.ts';
import { FakeManager } from './testing/fake-manager.ts';

// The manager speaks HTTPS with a CA of its own; this proves the agent trusts exactly that CA
// (given with --ca, then copied into the data dir) and refuses the connection without it.
const dir = mkdtempSync(join(tmpdir(), 'palisade-agent-tls-'));
const host: HostFacts = { hostname: 'tls-host', platform: 'linux/debian 12', ips: [], agentVersion: '0.1.0' };
let manager: FakeManager;
let caFile: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

before(async () => {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=palisade-test-ca');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '1', '-extfile', 'ext.cnf');
  caFile = join(dir, 'ca.pem');
  manager = new FakeManager({ key: readFileSync(join(dir, 'srv.key'), 'utf8'), cert: readFileSync(join(dir, 'srv.pem'), 'utf8') });
  await manager.start();
  manager.setConfig({ heartbeatSeconds: 1, spool: { maxBytes: 1 << 20 }, modules: {} });
});

after(async () => {
  await manager.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('without the manager CA the TLS connection is refused with AGENT_TLS_ERROR', async () => {
  await assert.rejects(
    activateAgent({ managerUrl: manager.url, token: 'activation-token-0001', dataDir: join(dir, 'no-ca'), host }),
    (err: unknown) => isAgentError(err) && err.code === 'AGENT_TLS_ERROR' && /--ca/.test(err.message),
  );
  await assert.rejects(
    activateAgent({ managerUrl: manager.url, token: 'activation-token-0001', dataDir: join(dir, 'bad-ca'), host, caFile: join(dir, 'srv.key') }),
    (err: unknown) => isAgentError(err) && err.code === 'AGENT_CA_UNREADABLE',
  );
});

test('with --ca the agent activates, keeps a private copy of the CA and runs over HTTPS', async () => {
  const dataDir = join(dir, 'agent');
  await activateAgent({ managerUrl: manager.url, token: 'activation-token-0001', dataDir, host, caFile });
  const copy = join(dataDir, 'manager-ca.pem');
  assert.equal(readFileSync(copy, 'utf8'), readFileSync(caFile, 'utf8'));
  assert.equal(statSync(copy).mode & 0o777, 0o600);
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);

  const agent = await runAgent({ dataDir, logger: silentLogger(), hostFacts: () => host, commandWaitSeconds: 2, inventoryIntervalMs: 0 });
  try {
    const before = manager.heartbeats.length;
    const deadline = Date.now() + 5_000;
    while (manager.heartbeats.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.ok(manager.heartbeats.length > before, 'a heartbeat arrived over HTTPS');
    assert.equal(agent.status().connection.state, 'connected');
    assert.equal(agent.status().configHash, manager.configHash);
  } finally {
    await agent.stop();
  }
  assert.deepEqual(manager.protocolErrors, []);
});
