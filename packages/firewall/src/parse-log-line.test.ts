import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventAggregator } from './event-aggregator.ts';
import { parseFirewallLogLine } from './parse-log-line.ts';

// Lines in the format the kernel's nf_log writes for nftables `log prefix` (as dmesg/journald show them).
const TCP_IN =
  '[ 5123.456789] pal deny bad: IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=198.51.100.7 DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ';
const ICMP6_OUT =
  'Nov 26 23:00:01 host kernel: pal deny out-of-allowed: IN= OUT=eth0 SRC=fd00::1 DST=fd00::2 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=ICMPv6 TYPE=128 CODE=0 ID=7 SEQ=1 ';

test('kernel log lines of Palisade rules are parsed', () => {
  assert.deepEqual(parseFirewallLogLine(TCP_IN), {
    kind: 'deny',
    rule: 'bad',
    direction: 'in',
    iface: 'eth0',
    src: '198.51.100.7',
    dst: '10.0.0.1',
    proto: 'tcp',
    srcPort: 40000,
    dstPort: 22,
    flags: ['SYN'],
  });
  assert.deepEqual(parseFirewallLogLine(ICMP6_OUT), {
    kind: 'deny',
    rule: 'out-of-allowed',
    direction: 'out',
    iface: 'eth0',
    src: 'fd00::1',
    dst: 'fd00::2',
    proto: 'icmpv6',
    icmpType: 128,
    flags: [],
  });
  assert.equal(parseFirewallLogLine('[ 1.0] usb 1-1: new device'), undefined);
  assert.equal(parseFirewallLogLine('pal deny x: no packet fields here'), undefined);
});

test('a flood becomes one event per key and window', () => {
  const agg = new EventAggregator(10_000);
  const e = parseFirewallLogLine(TCP_IN)!;
  for (let i = 0; i < 1000; i++) agg.add(e, 1_000 + i);
  agg.add({ ...e, src: '198.51.100.8' }, 1_500);
  assert.deepEqual(agg.flush(5_000), [], 'window still open');
  const out = agg.flush(12_000);
  assert.equal(out.length, 2);
  assert.deepEqual([out[0]!.count, out[0]!.first, out[0]!.last, out[1]!.count], [1000, 1000, 1999, 1]);
  assert.deepEqual(agg.flush(99_000, true), []);
  const small = new EventAggregator(10_000, 1);
  small.add(e, 0);
  small.add({ ...e, dstPort: 23 }, 0);
  assert.equal(small.dropped, 1);
});
