import assert from 'node:assert/strict';
import { test } from 'node:test';
import { journalEntryToLine } from './journald-reader.ts';

test('a journal entry becomes the syslog line the decoders know', () => {
  const l = journalEntryToLine({
    __CURSOR: 's=1;i=2',
    __REALTIME_TIMESTAMP: String(Date.UTC(2026, 10, 7, 2, 3, 4) * 1000 + 123),
    _HOSTNAME: 'web1',
    SYSLOG_IDENTIFIER: 'sshd',
    _PID: '4242',
    _SYSTEMD_UNIT: 'ssh.service',
    MESSAGE: 'Failed password for root from 203.0.113.5 port 40000 ssh2',
  });
  assert.deepEqual(l, {
    text: 'Nov  7 02:03:04 web1 sshd[4242]: Failed password for root from 203.0.113.5 port 40000 ssh2',
    time: Date.UTC(2026, 10, 7, 2, 3, 4) / 1000 + 0.000123,
    cursor: 's=1;i=2',
    unit: 'ssh.service',
  });
});

test('byte-array and multi-line messages, SYSLOG_PID over _PID, _COMM when there is no identifier', () => {
  const bytes = [...Buffer.from('kernel: caf\u00e9\nsecond line')];
  const l = journalEntryToLine({ __CURSOR: 'c', __REALTIME_TIMESTAMP: '0', _COMM: 'kthread', SYSLOG_PID: '7', _PID: '8', MESSAGE: bytes });
  assert.equal(l?.text, 'Jan  1 00:00:00 localhost kthread[7]: kernel: caf\u00e9 second line');
  assert.equal(journalEntryToLine({ __CURSOR: 'c', MESSAGE: null }), undefined, 'no message, no line');
  assert.equal(journalEntryToLine({ MESSAGE: 'x' }), undefined, 'no cursor, no resume point: not used');
});
