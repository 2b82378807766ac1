import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../../agent-module.ts';
import type { CommandRunner } from './command-runner.ts';
import { FirewallModule } from './firewall-module.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-fw-module-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fake nft: records every call and the file it was given; refuses files containing "REFUSE". */
function fakeNft() {
  const calls: { args: string[]; file?: string }[] = [];
  const run: CommandRunner = async (_cmd, args) => {
    const i = args.indexOf('-f');
    const file = i >= 0 ? readFileSync(args[i + 1]!, 'utf8') : undefined;
    calls.push({ args: [...args], ...(file !== undefined ? { file } : {}) });
    if (args.includes('--version')) return { code: 0, stdout: 'nftables v1.0.6', stderr: '' };
    if (file?.includes('REFUSE')) return { code: 1, stdout: '', stderr: 'Error: syntax error' };
    return { code: 0, stdout: '', stderr: '' };
  };
  return { run, calls };
}

function context(config: ModuleConfig, events: ModuleEventInput[]): ModuleContext {
  return {
    emit: (e) => {
      events.push(e);
      return { ...e, id: 'x', time: new Date(0).toISOString(), module: 'firewall' } as never;
    },
    logger: silentLogger(),
    dataDir: dir,
    config,
  };
}

const POLICY =
  'rules:\n  - { name: web, action: allow, protocol: tcp, dstPort: 443 }\n  - { name: bad, action: deny, srcIp: 192.0.2.0/24 }\n';

test('configure reports policy diagnostics without touching nft', () => {
  const nft = fakeNft();
  const m = new FirewallModule({ run: nft.run, isRoot: () => true });
  const diags = m.configure({ enabled: true, mode: 'prevent', settings: { policy: 'rules:\n  - { action: nope }\n' } });
  assert.equal(diags[0]?.code, 'FW_BAD_ACTION');
  assert.equal(diags[0]?.file, 'modules.firewall.policy');
  assert.equal(m.configure({ enabled: true, mode: 'prevent', settings: { policy: 42 } })[0]?.code, 'FW_SCHEMA');
  // Enabled with no policy at all (the quickstart): valid, nothing to enforce.
  assert.deepEqual(m.configure({ enabled: true, mode: 'detect', settings: {} }), []);
  assert.deepEqual(m.configure({ enabled: false, mode: 'off', settings: {} }), []);
  assert.equal(nft.calls.length, 0);
});

test('enabled without a policy: running, says nothing is enforced, never calls nft', async () => {
  const nft = fakeNft();
  const m = new FirewallModule({ run: nft.run, isRoot: () => true });
  const config = { enabled: true, mode: 'detect' as const, settings: {} };
  const dir = mkdtempSync(join(tmpdir(), 'fw-nopolicy-'));
  await m.start({ emit: (e: ModuleEventInput) => e as never, logger: silentLogger(), dataDir: dir, config } as unknown as ModuleContext);
  assert.equal(m.status().state, 'running');
  assert.match(m.status().reason ?? '', /no firewall policy/);
  assert.equal(nft.calls.filter((c) => c.args.includes('-f')).length, 0);
  await m.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('start applies with the manager failsafe, detect mode never drops, stop removes the tables', async () => {
  const nft = fakeNft();
  const events: ModuleEventInput[] = [];
  const m = new FirewallModule({ run: nft.run, isRoot: () => true, manager: { address: '10.0.0.5', port: 4120 } });
  assert.deepEqual(await m.capabilities(), { supported: true });
  const prevent: ModuleConfig = { enabled: true, mode: 'prevent', settings: { policy: POLICY } };
  assert.deepEqual(m.configure(prevent), []);
  await m.start(context(prevent, events));
  const applied = nft.calls.find((c) => c.args[0] === '-f')!.file!;
  assert.match(applied, /ip daddr 10\.0\.0\.5 tcp dport 4120 counter accept comment "failsafe: manager"/);
  assert.match(applied, /counter drop comment "bad"/);
  assert.equal(m.status().state, 'running');
  assert.equal(events[0]?.type, 'firewall.applied');

  await m.reconfigure({ ...prevent, mode: 'detect' });
  const detect = nft.calls.filter((c) => c.args[0] === '-f').at(-1)!.file!;
  assert.doesNotMatch(
    detect,
    /\b(drop)\b(?! comment "(dynamic block list|port scan)")/,
    'only the operator block list may drop in detect mode',
  );
  assert.match(detect, /log prefix "pal log bad: "/);

  await m.stop();
  assert.match(nft.calls.at(-1)!.file!, /delete table inet palisade/);
  assert.equal(m.status().state, 'off');
});

test('a refused apply keeps the old ruleset and reports an error event', async () => {
  const nft = fakeNft();
  const events: ModuleEventInput[] = [];
  const m = new FirewallModule({ run: nft.run, isRoot: () => true });
  const ok: ModuleConfig = { enabled: true, mode: 'prevent', settings: { policy: POLICY } };
  await m.start(context(ok, events));
  await m.reconfigure({ ...ok, settings: { policy: `name: REFUSE\n${POLICY}` } });
  assert.equal(m.status().state, 'error');
  assert.equal(events.at(-1)?.type, 'firewall.apply-failed');
  assert.equal(events.at(-1)?.severity, 'high');
});

test('unsupported without root', async () => {
  const m = new FirewallModule({ isRoot: () => false });
  assert.deepEqual(await m.capabilities(), { supported: false, reason: 'not running as root: nftables needs CAP_NET_ADMIN' });
});

test('log lines become aggregated, counted events', async () => {
  const nft = fakeNft();
  const events: ModuleEventInput[] = [];
  let feed: ((line: string) => void) | undefined;
  let clock = 1_000;
  const m = new FirewallModule({
    run: nft.run,
    isRoot: () => true,
    now: () => clock,
    eventWindowMs: 10_000,
    logSource: (onLine) => {
      feed = onLine;
      return () => {
        feed = undefined;
      };
    },
  });
  const config: ModuleConfig = { enabled: true, mode: 'prevent', settings: { policy: POLICY } };
  await m.start(context(config, events));
  const line = (src: string) =>
    `[ 5.1] pal deny bad: IN=eth0 OUT= SRC=${src} DST=10.0.0.1 LEN=60 TTL=64 PROTO=TCP SPT=40000 DPT=22 SYN URGP=0`;
  for (let i = 0; i < 500; i++) feed!(line('192.0.2.7'));
  feed!(line('192.0.2.8'));
  feed!('[ 5.2] some other kernel message');
  clock += 10_000;
  const flushed = m.flushEvents();
  assert.deepEqual(
    flushed.map((e) => [e.src, e.count]),
    [
      ['192.0.2.7', 500],
      ['192.0.2.8', 1],
    ],
  );
  const ev = events.filter((e) => e.type === 'firewall.deny');
  assert.equal(ev.length, 2);
  assert.equal(ev[0]!.severity, 'medium');
  assert.equal(ev[0]!.ruleId, 'bad');
  assert.match(ev[0]!.message, /192\.0\.2\.7 -> 10\.0\.0\.1 tcp\/22 \(500 packets\)/);
  await m.stop();
  assert.equal(feed, undefined, 'stop unsubscribes');
});

test('manager commands block and unblock an address, with an event each; bad input fails', async () => {
  const nft = fakeNft();
  const m = new FirewallModule({ run: nft.run, isRoot: () => true, now: () => Date.parse('2026-01-01T00:00:00Z') });
  const events: ModuleEventInput[] = [];
  const config = { enabled: true, mode: 'prevent' as const, settings: { policy: POLICY } };
  await m.start(context(config, events));
  const res = await m.commands['firewall.block']({ address: '198.51.100.7', seconds: 600, reason: 'playbook p1' });
  assert.deepEqual(res, { address: '198.51.100.7', seconds: 600, until: '2026-01-01T00:10:00.000Z' });
  assert.ok(
    nft.calls.some((c) => c.args.join(' ').includes('add element inet palisade') && c.args.join(' ').includes('198.51.100.7 timeout 600s')),
  );
  await m.commands['firewall.unblock']({ address: '198.51.100.7' });
  assert.ok(nft.calls.some((c) => c.args[0] === 'delete' && c.args.join(' ').includes('198.51.100.7')));
  assert.deepEqual(
    events
      .filter((e) => e.type.startsWith('firewall.') && e.type !== 'firewall.applied')
      .map((e) => [e.type, e.details?.address, e.details?.reason]),
    [
      ['firewall.blocked', '198.51.100.7', 'playbook p1'],
      ['firewall.unblocked', '198.51.100.7', undefined],
    ],
  );
  await assert.rejects(m.commands['firewall.block']({ address: 'not-an-ip', seconds: 60 }), /./);
  await assert.rejects(m.commands['firewall.block']({ address: '198.51.100.8', seconds: -1 }), /positive number of seconds/);
  await m.stop();
});

test('a manager known by name is resolved before each apply and kept open by the failsafe', async () => {
  const nft = fakeNft();
  let answer = '192.0.2.50';
  const m = new FirewallModule({
    run: nft.run,
    isRoot: () => true,
    managerHost: { host: 'manager.example', port: 4119 },
    lookup: async (host) => {
      assert.equal(host, 'manager.example');
      if (answer === 'fail') throw new Error('ENOTFOUND');
      return answer;
    },
  });
  const config = { enabled: true, mode: 'prevent' as const, settings: { policy: POLICY } };
  await m.start(context(config, []));
  const applied = () => nft.calls.filter((c) => c.file?.includes('table inet palisade')).at(-1)!.file!;
  assert.match(applied(), /ip daddr 192\.0\.2\.50 tcp dport 4119 counter accept comment "failsafe: manager"/);
  answer = '198.51.100.60'; // the manager moved
  await m.reconfigure({ ...config, settings: { policy: `${POLICY}  - { name: extra, action: allow, protocol: tcp, dstPort: 8443 }\n` } });
  assert.match(applied(), /ip daddr 198\.51\.100\.60 tcp dport 4119 .*failsafe: manager/);
  answer = 'fail'; // DNS down: the address found before stays open
  await m.reconfigure(config);
  assert.match(applied(), /ip daddr 198\.51\.100\.60 tcp dport 4119 .*failsafe: manager/);
  await m.stop();
});
