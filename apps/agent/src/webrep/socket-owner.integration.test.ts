import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../agent-module.ts';
import { WebReputationModule } from '../modules/web-reputation/web-reputation-module.ts';

// The web-reputation module's proxy on loopback and client processes of their own: the block
// event names the client's process and user, and is sent even when the client is gone.
const dir = mkdtempSync(join(tmpdir(), 'palisade-webrep-owner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor<T>(what: string, f: () => T | undefined, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('block events carry the client process and user; a client that exits at once still gets its event', async () => {
  const feed = join(dir, 'block.txt');
  writeFileSync(feed, '# palisade: risk=dangerous category=malware\nevil.example\nbad.example\n');
  const events: ModuleEventInput[] = [];
  const m = new WebReputationModule();
  const c: ModuleConfig = {
    enabled: true,
    mode: 'prevent',
    settings: { feeds: [{ file: feed }], proxy: { listen: { host: '127.0.0.1', port: 0 } } },
  };
  assert.deepEqual(m.configure(c), []);
  const ctx: ModuleContext = { emit: (e) => (events.push(e), e as never), logger: silentLogger(), dataDir: dir, config: c };
  await m.start(ctx);
  const port = m.listeningPorts().proxy!;
  // Client 1 sends its request on a raw socket and keeps the socket open, as a browser would.
  const holder = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').connect(${port}, '127.0.0.1', () => s.write('GET http://evil.example/x HTTP/1.1\\r\\nHost: evil.example\\r\\n\\r\\n'));
       s.on('data', (d) => process.stdout.write(String(d).split('\\r\\n')[0] + '\\n'));
       setTimeout(() => {}, 60000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let out = '';
    holder.stdout!.on('data', (d) => (out += d));
    await waitFor('the block page', () => (out.includes('403') ? true : undefined));
    const ev = await waitFor('the block event', () =>
      events.find((e) => e.type === 'webrep.blocked' && e.details?.url === 'http://evil.example/x'),
    );
    assert.deepEqual(ev.details?.process && { pid: (ev.details.process as { pid: number }).pid }, { pid: holder.pid });
    assert.equal((ev.details?.process as { name: string }).name, 'node');
    assert.equal(ev.details?.uid, process.getuid?.());
    assert.equal(typeof ev.details?.user, 'string');
    assert.match(ev.message, /^blocked http:\/\/evil\.example\/x \(dangerous, malware\) by node \(pid \d+, user .+\)$/);
    assert.ok(ev.time, 'the event carries the time of the block, not of the lookup');
    // Client 2 asks and exits as soon as it has its answer (like curl): the event arrives anyway.
    const quick = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').connect(${port}, '127.0.0.1', () => s.write('CONNECT bad.example:443 HTTP/1.1\\r\\nHost: bad.example:443\\r\\n\\r\\n'));
         s.on('data', (d) => { process.stdout.write(String(d).split('\\r\\n')[0]); process.exit(0); });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let quickOut = '';
    quick.stdout!.on('data', (d) => (quickOut += d));
    await new Promise((r) => quick.once('exit', r));
    assert.match(quickOut, /^HTTP\/1\.1 403/);
    const ev2 = await waitFor('the CONNECT block event', () => events.find((e) => e.details?.via === 'connect'));
    assert.equal(ev2.details?.url, 'https://bad.example:443/');
    if (ev2.details?.process) assert.equal((ev2.details.process as { pid: number }).pid, quick.pid);
  } finally {
    holder.kill();
    await m.stop();
  }
});
