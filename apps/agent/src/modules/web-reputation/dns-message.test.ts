import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockedAnswer, DNS_TYPE, readQuestion } from './dns-message.ts';

function query(name: string, type: number, id = 0x1234): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, type >> 8, type & 0xff, 0, 1])]);
}

test('reads the question of a query; refuses responses and truncated messages', () => {
  const q = readQuestion(query('Evil.Example', DNS_TYPE.A))!;
  assert.deepEqual([q.id, q.name, q.type, q.klass], [0x1234, 'evil.example', 1, 1]);
  const response = query('a.example', 1);
  response[2] = 0x81;
  assert.equal(readQuestion(response), undefined);
  assert.equal(readQuestion(query('a.example', 1).subarray(0, 20)), undefined);
});

test('blocked answers: NXDOMAIN, or a sinkhole record of the asked type', () => {
  const qa = query('evil.example', DNS_TYPE.A);
  const nx = blockedAnswer(qa, readQuestion(qa)!, 'nxdomain');
  assert.equal(nx.readUInt16BE(0), 0x1234);
  assert.equal(nx.readUInt16BE(2) & 0x800f, 0x8003, 'a response with RCODE 3');
  assert.equal(nx.readUInt16BE(6), 0, 'no answers');
  const sink = blockedAnswer(qa, readQuestion(qa)!, 'sinkhole');
  assert.equal(sink.readUInt16BE(2) & 0x000f, 0);
  assert.equal(sink.readUInt16BE(6), 1);
  assert.deepEqual([...sink.subarray(sink.length - 4)], [0, 0, 0, 0], 'A 0.0.0.0');
  const q6 = query('evil.example', DNS_TYPE.AAAA);
  const sink6 = blockedAnswer(q6, readQuestion(q6)!, 'sinkhole');
  assert.equal(sink6.readUInt16BE(sink6.length - 18), 16, 'AAAA with 16 bytes of ::');
  const mx = query('evil.example', 15);
  assert.equal(blockedAnswer(mx, readQuestion(mx)!, 'sinkhole').readUInt16BE(6), 0, 'other types: empty answer');
});
