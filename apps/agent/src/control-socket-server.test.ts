import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentError, isAgentError } from './agent-error.ts';
import { silentLogger } from './agent-logger.ts';
import { controlRequest } from './control-client.ts';
import { ControlSocketServer } from './control-socket-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-ctl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const methods = {
  echo: async (params: Record<string, unknown>) => ({ got: params }),
  broken: async () => {
    throw new AgentError('AGENT_NOT_READY', 'not yet');
  },
};

/** Raw exchange: write lines, collect the response lines. */
function exchange(path: string, payload: string, lines: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(payload));
    s.on('data', (c: string) => {
      buf += c;
      const got = buf.split('\n').filter(Boolean);
      if (got.length >= lines) {
        s.destroy();
        resolve(got.map((l) => JSON.parse(l)));
      }
    });
    s.on('error', reject);
  });
}

test('serves JSON lines on a 0600 socket, replacing a stale file and refusing a second server', async () => {
  const path = join(dir, 'a.sock');
  writeFileSync(path, 'left over by a killed agent');
  const server = new ControlSocketServer(path, methods, silentLogger());
  await server.listen();
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(statSync(path).isSocket());
    await assert.rejects(
      new ControlSocketServer(path, methods, silentLogger()).listen(),
      (err: unknown) => isAgentError(err) && err.code === 'AGENT_ALREADY_RUNNING',
    );
    assert.deepEqual(await controlRequest('echo', { a: 1 }, { socketPath: path }), { got: { a: 1 } });
    await assert.rejects(
      controlRequest('broken', {}, { socketPath: path }),
      (err: unknown) => isAgentError(err) && err.code === 'AGENT_NOT_READY' && err.message === 'not yet',
    );
    // two requests on one connection, one of them garbage, answered in order with their ids
    const answers = await exchange(path, 'not json\n{"id":7,"method":"nope"}\n{"id":8,"method":"echo"}\n', 3);
    assert.deepEqual(answers, [
      { ok: false, error: { code: 'AGENT_CONTROL_BAD_REQUEST', message: 'each line must be a JSON object with a "method"' } },
      { id: 7, ok: false, error: { code: 'AGENT_CONTROL_UNKNOWN_METHOD', message: 'unknown method "nope"' } },
      { id: 8, ok: true, result: { got: {} } },
    ]);
    const tooLong = await exchange(path, 'x'.repeat(70 * 1024), 1);
    assert.equal((tooLong[0] as { error: { code: string } }).error.code, 'AGENT_CONTROL_BAD_REQUEST');
  } finally {
    await server.close();
  }
  assert.equal(existsSync(path), false);
  await assert.rejects(controlRequest('echo', {}, { socketPath: path }), (err: unknown) => isAgentError(err) && err.code === 'AGENT_NOT_RUNNING');
});

test('a socket path longer than a unix socket allows is refused clearly', async () => {
  const server = new ControlSocketServer(join(dir, 'x'.repeat(120), 'agent.sock'), methods, silentLogger());
  await assert.rejects(server.listen(), (err: unknown) => isAgentError(err) && err.code === 'AGENT_SOCKET_PATH_TOO_LONG');
});
