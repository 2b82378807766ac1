import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preDecodeSyslog } from './syslog-predecoder.ts';

const split = (line: string) => {
  const h = preDecodeSyslog(line);
  return { ts: h.timestamp, host: h.hostname, prog: h.programName, log: line.slice(h.logStart) };
};

test('BSD syslog header with pid', () => {
  assert.deepEqual(split('Apr 14 19:28:21 gorilla sshd[31274]: Connection closed by 1.2.3.4'), {
    ts: 'Apr 14 19:28:21',
    host: 'gorilla',
    prog: 'sshd',
    log: 'Connection closed by 1.2.3.4',
  });
});

test('ISO timestamps, program without pid, no space after the colon', () => {
  assert.deepEqual(split('2009-05-22T09:36:46.214994-07:00 host su:msg'), {
    ts: '2009-05-22T09:36:46.214994-07:00',
    host: 'host',
    prog: 'su',
    log: 'msg',
  });
});

test('a header without a program name keeps the hostname and the rest as log', () => {
  const r = split('Jan  3 13:45:36 192.168.5.1 id=firewall sn=1');
  assert.equal(r.host, '192.168.5.1');
  assert.equal(r.prog, undefined);
  assert.equal(r.log, 'id=firewall sn=1');
});

test('lines without a known timestamp are left whole', () => {
  assert.deepEqual(split('{"a":1}'), { ts: undefined, host: undefined, prog: undefined, log: '{"a":1}' });
});

test('macOS unified log timestamps', () => {
  const r = split('2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: error: x');
  assert.equal(r.prog, 'sshd');
  assert.equal(r.host, 'localhost');
  assert.equal(r.log, 'error: x');
});
