import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sendRaw, serializeRequest } from '../apps/agent/src/modules/ips/raw-http-client.ts';
import { type AgentProcess, freePort, type ManagerProcess, waitFor } from './support/real-processes.ts';
import { type ManagerWithAgent, startManagerWithAgent } from './support/manager-with-agent.ts';

/**
 * The IPS through the whole platform: a real manager assigns the pack to a real agent through a
 * policy; the agent's proxy blocks an exploit sent through a (simulated) load balancer, and the
 * event reaches the manager with the client address derived from X-Forwarded-For.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-ips-e2e-'));
let manager: ManagerProcess;
let agent: AgentProcess;
let upstream: http.Server;
let upstreamHits = 0;
let proxyPort = 0;

let setup: ManagerWithAgent | undefined;
before(async () => {
  upstream = http.createServer((req, res) => {
    upstreamHits++;
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  proxyPort = await freePort();
  setup = await startManagerWithAgent({
    dir,
    policy: {
      name: 'IPS E2E',
      settings: {
        heartbeatSeconds: 2,
        modules: {
          ips: {
            enabled: true,
            mode: 'prevent',
            settings: {
              services: [
                {
                  name: 'shop',
                  listen: { host: '127.0.0.1', port: proxyPort },
                  upstream: { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
                },
              ],
              // No dir: the agent uses the pack it ships with; the manager assigns patches by id.
              ruleSets: { patches: { only: ['CVE-2020-5902', 'CVE-2021-44228'] } },
              trustedProxies: ['127.0.0.0/8'],
            },
          },
        },
      },
    },
  });
  ({ manager, agent } = setup);
});

after(async () => {
  await setup?.cleanup();
  upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a blocked exploit becomes an event at the manager with the derived client address', async () => {
  await waitFor(
    'IPS proxy listening',
    async () =>
      (
        await sendRaw(
          { host: '127.0.0.1', port: proxyPort },
          serializeRequest({ method: 'GET', uri: '/health', headers: [], body: '' }, 'shop'),
          2000,
        )
      ).status === 200,
    60_000,
    250,
  );
  const hits = upstreamHits;
  const res = await sendRaw(
    { host: '127.0.0.1', port: proxyPort },
    serializeRequest(
      {
        method: 'GET',
        uri: '/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp?fileName=/etc/passwd',
        headers: [['X-Forwarded-For', '203.0.113.77, 127.0.0.5']],
        body: '',
      },
      'shop',
    ),
  );
  assert.equal(res.status, 403);
  assert.equal(upstreamHits, hits, 'the exploit never reached the upstream');
  const ev = await waitFor(
    'ips event at the manager',
    async () =>
      (await manager.client.listEvents({ computerId: agent.agentId, module: 'ips', limit: 10 })).events.find(
        (e) => e.type === 'ips.blocked',
      ),
    30_000,
    250,
  );
  assert.equal(ev.ruleId, '9500230');
  assert.equal(ev.details?.clientAddress, '203.0.113.77');
  assert.equal(ev.details?.peerAddress, '127.0.0.1');
  assert.deepEqual(ev.details?.cves, ['CVE-2020-5902']);
});
