import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../apps/agent/src/agent-logger.ts';
import { IpsModule } from '../apps/agent/src/modules/ips/ips-module.ts';
import { registerVerifyCommands, verifyShielding } from '../apps/cli/src/commands/verify-commands.ts';
import { repoRoot } from './support/real-processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'ips-verify-'));
const patches = ['CVE-2017-5638', 'CVE-2021-44228', 'CVE-2024-4577'];
let upstream: http.Server;

before(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
});
after(() => {
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

async function running(mode: ModuleConfig['mode']) {
  const config: ModuleConfig = {
    enabled: true,
    mode,
    settings: {
      services: [
        {
          name: 'web',
          listen: { host: '127.0.0.1', port: 0 },
          upstream: { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
          patches,
        },
      ],
      ruleSets: { patches: { dir: join(repoRoot, 'rules/ips') } },
    },
  };
  const m = new IpsModule();
  await m.start({ emit: (e) => e as never, logger: silentLogger(), dataDir: dir, config });
  const port = m.listening().web!.port;
  // What the agent caches: the effective configuration with the port it really listens on.
  const settings = config.settings as { services: { listen: { port: number } }[] };
  settings.services[0]!.listen.port = port;
  return { m, effective: { heartbeatSeconds: 30, spool: { maxBytes: 1 << 20 }, modules: { ips: config } } };
}

test('verify reports every assigned patch shielded in prevent mode (API and command)', async () => {
  const { m, effective } = await running('prevent');
  try {
    const v = await verifyShielding(effective);
    assert.deepEqual(
      v.map((x) => [x.patch, x.verdict]),
      patches.map((p) => [p, 'shielded']),
    );
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ hash: 'h', config: effective }));
    const program = new Command('palisade');
    registerVerifyCommands(program);
    let out = '';
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => {
      out += c;
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['verify', '--config', file, '--service', 'web', '--json'], { from: 'user' });
    } finally {
      process.stdout.write = orig;
    }
    const parsed = JSON.parse(out) as { shielded: number; total: number };
    assert.equal(parsed.shielded, 3);
    assert.equal(parsed.total, 3);
  } finally {
    await m.stop();
  }
});

test('in detect mode nothing is shielded, and verify says so', async () => {
  const { m, effective } = await running('detect');
  try {
    const v = await verifyShielding(effective);
    assert.ok(v.every((x) => x.verdict === 'not shielded'));
    await assert.rejects(() => verifyShielding(effective, 'nope'), /no protected service named nope/);
  } finally {
    await m.stop();
  }
});
