import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { realpathSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { after, before, test } from 'node:test';
import { findInProcNet, parsePasswd, procNetAddress, SocketOwnerLookup, splitClient, withSocketOwner } from './socket-owner.ts';

test('addresses are written the way /proc/net/{tcp,udp}[6] writes them', () => {
  assert.deepEqual(procNetAddress('127.0.0.1', 8080, true), { v4: '0100007F:1F90', v6: '0000000000000000FFFF00000100007F:1F90' });
  assert.deepEqual(procNetAddress('::ffff:10.1.2.3', 53, true), { v4: '0302010A:0035', v6: '0000000000000000FFFF00000302010A:0035' });
  assert.deepEqual(procNetAddress('::1', 443, true), { v6: '00000000000000000000000001000000:01BB' });
  assert.deepEqual(procNetAddress('2001:DB8::1', 1, true), { v6: 'B80D0120000000000000000001000000:0001' });
  // Big-endian hosts print each word in network order.
  assert.deepEqual(procNetAddress('127.0.0.1', 8080, false), { v4: '7F000001:1F90', v6: '00000000000000000000FFFF7F000001:1F90' });
  assert.equal(procNetAddress('not-an-ip', 1), undefined);
});

test('the socket table: exact local end first, the UDP wildcard as a fallback, inode 0 skipped', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:D431 0100007F:1F90 06 00000000:00000000 03:00000a1c 00000000     0        0 0 3 0000000000000000',
    '   1: 00000000:D431 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4242 2 0000000000000000 0',
    '   2: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000    33        0 777 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');
  assert.deepEqual(findInProcNet(table, '0100007F:D431'), { uid: 33, inode: 777 }, 'TIME_WAIT (inode 0) is skipped');
  assert.deepEqual(findInProcNet(table, '0200007F:D431', '00000000:D431'), { uid: 1000, inode: 4242 });
  assert.equal(findInProcNet(table, '0200007F:D431'), undefined);
  assert.deepEqual(
    [...parsePasswd('root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\nbroken\n')],
    [
      [0, 'root'],
      [33, 'www-data'],
    ],
  );
  assert.deepEqual(splitClient('::ffff:127.0.0.1:5353'), { address: '::ffff:127.0.0.1', port: 5353 });
  assert.deepEqual(splitClient('10.0.0.1:80'), { address: '10.0.0.1', port: 80 });
  assert.equal(splitClient('nonsense'), undefined);
});

// A real client in another process: a TCP connection held open and a UDP datagram sent from an
// unconnected socket (as a stub resolver does). As root the child runs as `nobody`, so the user
// is not simply ours.
let server: net.Server;
let udp: dgram.Socket;
let child: ChildProcess;
let tcpPort = 0;
let udpFrom = 0;
const asRoot = process.getuid?.() === 0;
const childUid = asRoot ? 65534 : (process.getuid?.() ?? 0);

before(async () => {
  server = net.createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  udp = dgram.createSocket('udp4');
  const gotDatagram = new Promise<number>((r) => udp.once('message', (_m, rinfo) => r(rinfo.port)));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const accepted = new Promise<number>((r) => server.once('connection', (s) => r(s.remotePort!)));
  const script = `
    const net = require('node:net'), dgram = require('node:dgram');
    const s = net.connect(${(server.address() as AddressInfo).port}, '127.0.0.1');
    const u = dgram.createSocket('udp4');
    u.send('hello', ${udp.address().port}, '127.0.0.1');
    setTimeout(() => {}, 60000);`;
  child = spawn(process.execPath, ['-e', script], { stdio: 'ignore', ...(asRoot ? { uid: childUid, gid: 65534 } : {}) });
  tcpPort = await accepted;
  udpFrom = await gotDatagram;
});
after(() => {
  child.kill();
  server.close();
  udp.close();
});

test('a real client process on loopback: pid, exe and user of its TCP and UDP sockets', async () => {
  const owners = new SocketOwnerLookup();
  const passwdName = parsePasswd(await import('node:fs').then((fs) => fs.readFileSync('/etc/passwd', 'utf8'))).get(childUid) ?? null;
  const tcp = await owners.lookup('tcp', '127.0.0.1', tcpPort);
  assert.ok(tcp, 'the TCP client is found');
  assert.equal(tcp.uid, childUid);
  assert.equal(tcp.user, asRoot ? passwdName : userInfo().username);
  assert.equal(tcp.process?.pid, child.pid);
  assert.equal(tcp.process?.name, 'node');
  // exe is readable by root or the same user; it is the node binary the child runs.
  assert.equal(tcp.process?.exe, realpathSync(process.execPath));
  // Node reports IPv4 peers of a dual-stack listener in the mapped form: the same socket.
  assert.equal((await owners.lookup('tcp', '::ffff:127.0.0.1', tcpPort))?.process?.pid, child.pid);
  const u = await owners.lookup('udp', '127.0.0.1', udpFrom);
  assert.equal(u?.process?.pid, child.pid, 'an unconnected UDP socket is found through the wildcard address');
  // Nobody holds the port: nothing. Not this host's address: nothing, and nothing read.
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const free = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  assert.equal(await owners.lookup('tcp', '127.0.0.1', free), undefined);
  const before = owners.counters.lookups;
  assert.equal(await owners.lookup('tcp', '192.0.2.1', tcpPort), undefined);
  assert.equal(owners.counters.lookups, before, 'a remote client costs no lookup');
});

test('bounded: with no fd links to read, the user is still known and the process is not', async () => {
  const owners = new SocketOwnerLookup({ maxFdLinks: 0 });
  const o = await owners.lookup('tcp', '127.0.0.1', tcpPort);
  assert.equal(o?.uid, childUid);
  assert.equal(o?.process, undefined);
  const e = withSocketOwner({ type: 't', severity: 'low', message: 'blocked x', details: { url: 'x' } }, o!);
  assert.deepEqual(e.details, { url: 'x', user: o!.user ?? String(childUid), uid: childUid });
  assert.match(e.message, /^blocked x by user /);
  // Busy: more lookups than allowed at once are answered at once, without a process.
  const busy = new SocketOwnerLookup({ maxInFlight: 0 });
  assert.equal(await busy.lookup('tcp', '127.0.0.1', tcpPort), undefined);
  assert.equal(busy.counters.skippedBusy, 1);
});

test('the recent owner is searched first, and the per-second allowance of fd links is shared by all lookups', async () => {
  // A budget of links that only the first process in the order can use: found, being recent.
  const limited = new SocketOwnerLookup({ ttlMs: 0, maxFdLinks: 64 });
  (limited as unknown as { recentPids: number[] }).recentPids = [child.pid!];
  assert.equal((await limited.lookup('tcp', '127.0.0.1', tcpPort))?.process?.pid, child.pid);
  // No allowance left this second: the user, not the process.
  const starved = new SocketOwnerLookup({ ttlMs: 0, maxFdLinksPerSecond: 0 });
  const o = await starved.lookup('tcp', '127.0.0.1', tcpPort);
  assert.equal(o?.uid, childUid);
  assert.equal(o?.process, undefined);
});
