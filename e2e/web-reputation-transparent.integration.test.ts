import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, waitFor } from './support/real-processes.ts';

/**
 * Transparent web reputation between two namespaces this test creates: H is the protected host
 * (the module and an unprivileged client run there), W holds two web sites, a benign one and a
 * listed one, each with HTTP on 80 and HTTPS on 443. The module installs the nftables redirect
 * itself; the client just uses curl, knowing nothing of any proxy.
 */
function can(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const [cmd, args] of [
    ['ip', ['netns', 'list']],
    ['nft', ['--version']],
    ['curl', ['--version']],
    ['openssl', ['version']],
    ['setpriv', ['--version']],
  ] as const) {
    if (spawnSync(cmd, [...args], { stdio: 'ignore' }).status !== 0) return `needs ${cmd}`;
  }
  return false;
}
const skip = can();
const n = process.pid % 200;
const H = `pwr-h${process.pid}`;
const W = `pwr-w${process.pid}`;
const hostIp = `10.202.${n}.1`;
const goodIp = `10.202.${n}.2`;
const evilIp = `10.202.${n}.3`;
const dir = mkdtempSync(join(tmpdir(), 'webrep-transparent-'));
const procs: ChildProcess[] = [];
const events: Record<string, unknown>[] = [];

const sh = (...a: string[]) => execFileSync(a[0]!, a.slice(1), { encoding: 'utf8' });

function onLines(p: ChildProcess, fn: (o: Record<string, unknown>) => void): void {
  let buf = '';
  p.stdout!.on('data', (c) => {
    buf += c;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        fn(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // not a JSON line
      }
    }
  });
}

/** curl from the protected host as user nobody: the agent's own user (root) is exempt. */
function curl(args: string[]): { code: string; body: string; exit: number } {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      H,
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      'curl',
      '-sk',
      '--max-time',
      '8',
      '-w',
      '\n%{http_code}',
      ...args,
    ],
    { encoding: 'utf8' },
  );
  const lines = r.stdout.trimEnd().split('\n');
  return { code: lines.at(-1) ?? '', body: lines.slice(0, -1).join('\n'), exit: r.status ?? -1 };
}

describe('web reputation in transparent mode', { skip }, () => {
  before(async () => {
    sh('ip', 'netns', 'add', H);
    sh('ip', 'netns', 'add', W);
    sh('ip', '-n', H, 'link', 'add', 'wr0', 'type', 'veth', 'peer', 'name', 'wr1', 'netns', W);
    sh('ip', '-n', H, 'addr', 'add', `${hostIp}/24`, 'dev', 'wr0');
    sh('ip', '-n', W, 'addr', 'add', `${goodIp}/24`, 'dev', 'wr1');
    sh('ip', '-n', W, 'addr', 'add', `${evilIp}/24`, 'dev', 'wr1');
    for (const [ns, dev] of [
      [H, 'wr0'],
      [W, 'wr1'],
    ] as const) {
      sh('ip', '-n', ns, 'link', 'set', dev, 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh(
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=site',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    );
    // Both sites answer with their own address, over HTTP and HTTPS.
    const sites = spawn(
      'ip',
      [
        'netns',
        'exec',
        W,
        process.execPath,
        '-e',
        `const fs=require('fs');const opts={key:fs.readFileSync(${JSON.stringify(join(dir, 'key.pem'))}),cert:fs.readFileSync(${JSON.stringify(join(dir, 'cert.pem'))})};
         let n=0;const done=()=>{if(++n===4)process.stdout.write('{"ready":true}\\n')};
         for(const ip of ['${goodIp}','${evilIp}']){
           require('http').createServer((q,s)=>s.end('site '+ip)).listen(80,ip,done);
           require('https').createServer(opts,(q,s)=>s.end('tls site '+ip)).listen(443,ip,done);
         }`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    procs.push(sites);
    let sitesReady = false;
    onLines(sites, (o) => {
      if (o.ready) sitesReady = true;
    });
    writeFileSync(join(dir, 'blocked-ips.txt'), `${evilIp}\n`);
    writeFileSync(join(dir, 'blocked-names.txt'), '# palisade: risk=dangerous category=phishing\nevil.example\n');
    const settings = {
      level: 'medium',
      feeds: [{ file: join(dir, 'blocked-ips.txt') }, { file: join(dir, 'blocked-names.txt') }],
      proxy: { listen: { host: '127.0.0.1', port: 0 }, transparent: { httpPorts: [80], exemptUids: [0] } },
      hosts: { 'fine.example': goodIp, 'evil.example': evilIp },
    };
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
    const mod = spawn(
      'ip',
      [
        'netns',
        'exec',
        H,
        process.execPath,
        '--import',
        'tsx',
        join(repoRoot, 'e2e/support/web-reputation-module-process.ts'),
        join(dir, 'settings.json'),
        dir,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    procs.push(mod);
    let ready = false;
    onLines(mod, (o) => {
      if (o.ready) ready = true;
      else events.push(o);
    });
    await waitFor('sites and the module ready', () => sitesReady && ready, 60_000);
  });

  after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of [H, W]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('plain HTTP: the benign site answers, the listed address gets the block page', () => {
    assert.deepEqual(curl([`http://${goodIp}/`]), { code: '200', body: `site ${goodIp}`, exit: 0 });
    const blocked = curl([`http://${evilIp}/payload.sh`]);
    assert.equal(blocked.code, '403');
    assert.match(blocked.body, /Palisade web reputation blocked/);
  });

  test('HTTPS: judged by the TLS server name without decrypting; the listed name never connects', () => {
    const ok = curl(['--resolve', `fine.example:443:${goodIp}`, 'https://fine.example/']);
    assert.deepEqual([ok.code, ok.body], ['200', `tls site ${goodIp}`]);
    const blocked = curl(['--resolve', `evil.example:443:${evilIp}`, 'https://evil.example/']);
    assert.notEqual(blocked.exit, 0, 'the TLS connection is cut');
    assert.equal(blocked.code, '000');
  });

  test('root (the exempt agent user) is not redirected; every block became an event', async () => {
    const r = spawnSync('ip', ['netns', 'exec', H, 'curl', '-s', '--max-time', '8', `http://${evilIp}/`], { encoding: 'utf8' });
    assert.equal(r.stdout, `site ${evilIp}`, 'exempt traffic leaves untouched');
    await waitFor('the events', () => events.filter((e) => e.type === 'webrep.blocked').length >= 2, 5_000);
    const blocked = events.filter((e) => e.type === 'webrep.blocked').map((e) => e.details as Record<string, unknown>);
    assert.deepEqual(
      blocked.map((d) => [d.via, d.url]),
      [
        ['http', `http://${evilIp}/payload.sh`],
        ['sni', 'https://evil.example/'],
      ],
    );
    assert.equal(blocked[1]!.category, 'phishing');
  });
});
