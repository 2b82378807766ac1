import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import { isAgentError } from './agent-error.ts';
import { ManagerClient } from './manager-client.ts';

/** Answers the first request of each connection and resets the connection on the second. */
async function resettingServer() {
  const seen = new WeakMap<Socket, number>();
  let answered = 0;
  const server = http.createServer((req, res) => {
    const n = (seen.get(req.socket) ?? 0) + 1;
    seen.set(req.socket, n);
    if (n > 1) {
      req.socket.destroy(); // an idle keep-alive socket closed by the server just as it is reused
      return;
    }
    answered++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ n: answered, auth: req.headers.authorization ?? null }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a reset on a reused keep-alive socket is retried once on a fresh one', async () => {
  const { server, url } = await resettingServer();
  const client = new ManagerClient({ managerUrl: url, credentials: { agentId: 'a', agentSecret: 's' } });
  try {
    assert.deepEqual((await client.request('GET', '/x')).body, { n: 1, auth: 'Agent a:s' });
    const second = await client.request('POST', '/y', { hello: 1 });
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, { n: 2, auth: 'Agent a:s' });
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('timeouts and refused connections keep their codes', async () => {
  const silent = http.createServer(() => undefined); // never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const client = new ManagerClient({ managerUrl: url });
  try {
    await assert.rejects(client.request('GET', '/', undefined, { timeoutMs: 200 }), (e: unknown) => isAgentError(e) && e.code === 'AGENT_MANAGER_TIMEOUT');
    const ac = new AbortController();
    const pending = client.request('GET', '/', undefined, { signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, (e: unknown) => isAgentError(e) && e.code === 'AGENT_ABORTED');
  } finally {
    client.close();
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  }
  const gone = new ManagerClient({ managerUrl: url });
  await assert.rejects(gone.request('GET', '/'), (e: unknown) => isAgentError(e) && e.code === 'AGENT_MANAGER_UNREACHABLE');
  gone.close();
});
