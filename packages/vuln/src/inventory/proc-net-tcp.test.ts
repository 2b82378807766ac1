import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcNetTcp } from './proc-net-tcp.ts';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 23456 1 0000000000000000 100 0 0 10 0
   2: 0F02000A:0016 0100000A:D431 01 00000000:00000000 02:0009F2C1 00000000     0        0 34567 4 0000000000000000 20 4 29 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 45678 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 56789 1 0000000000000000 100 0 0 10 0
`;

test('listening IPv4 sockets only, addresses decoded from host byte order', () => {
  assert.deepEqual(parseProcNetTcp(TCP, 'tcp'), [
    { protocol: 'tcp', address: '0.0.0.0', port: 22, uid: 0, inode: 12345 },
    { protocol: 'tcp', address: '127.0.0.1', port: 8080, uid: 1000, inode: 23456 },
  ]);
});

test('IPv6 addresses are printed compressed', () => {
  assert.deepEqual(
    parseProcNetTcp(TCP6, 'tcp6').map((p) => `${p.address}:${p.port}`),
    [':::80', '::1:631'],
  );
});
