import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AgentProcess, freePort, type ManagerProcess, waitFor } from './support/real-processes.ts';
import { type ManagerWithAgent, startManagerWithAgent } from './support/manager-with-agent.ts';
import { statusThroughProxy } from './support/status-through-proxy.ts';

// A real manager and a real agent whose policy turns on web reputation as an explicit proxy on
// loopback: a request to a listed site is refused and the block reaches the manager as an event.
const dir = mkdtempSync(join(tmpdir(), 'palisade-e2e-webrep-'));
let manager: ManagerProcess;
let agent: AgentProcess;
let site: Server;
let sitePort = 0;
let proxyPort = 0;

let setup: ManagerWithAgent | undefined;
before(async () => {
  site = http.createServer((_q, s) => s.end('site ok'));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  sitePort = (site.address() as AddressInfo).port;
  proxyPort = await freePort();
  writeFileSync(join(dir, 'blocklist.txt'), '# palisade: risk=dangerous category=malware\nmalware.example\n');
  setup = await startManagerWithAgent({
    dir,
    policy: {
      name: 'egress',
      settings: {
        heartbeatSeconds: 1,
        modules: {
          'web-reputation': {
            enabled: true,
            mode: 'prevent',
            settings: {
              feeds: [{ file: join(dir, 'blocklist.txt') }],
              proxy: { listen: { host: '127.0.0.1', port: proxyPort } },
              hosts: { 'malware.example': '127.0.0.1', 'docs.example': '127.0.0.1' },
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
  site?.close();
  rmSync(dir, { recursive: true, force: true });
});

const viaProxy = (url: string) => statusThroughProxy(proxyPort, { path: url, headers: { host: new URL(url).host } });

test('the module runs, a listed URL is refused, and the block is an event at the manager', async () => {
  await waitFor(
    'web reputation running',
    async () => (await manager.client.getComputer(agent.agentId)).modules['web-reputation']?.state === 'running',
    60_000,
    250,
  );
  assert.equal(await viaProxy(`http://docs.example:${sitePort}/guide`), 200);
  assert.equal(await viaProxy(`http://malware.example:${sitePort}/payload.bin`), 403);
  const ev = await waitFor(
    'the block at the manager',
    async () =>
      (await manager.client.listEvents({ computerId: agent.agentId, module: 'web-reputation', limit: 10 })).events.find(
        (e) => e.type === 'webrep.blocked',
      ),
    30_000,
    250,
  );
  assert.equal(ev.severity, 'high');
  assert.equal(ev.details?.risk, 'dangerous');
  assert.equal(ev.details?.category, 'malware');
  assert.equal(ev.details?.via, 'http');
});
