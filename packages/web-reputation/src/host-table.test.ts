import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostTable } from './host-table.ts';

test('inserts, grows and finds whole keys and suffixes by their hash', () => {
  const t = new HostTable<number>(2);
  for (let i = 0; i < 5000; i++) t.insert(`h${i}.example.com`, HostTable.hash(`h${i}.example.com`), i);
  t.insert('example.com', HostTable.hash('example.com'), -1);
  assert.equal(t.size, 5001);
  for (let i = 0; i < 5000; i += 97) assert.equal(t.get(`h${i}.example.com`), i);
  assert.equal(t.get('h5000.example.com'), undefined);
  const host = 'www.h42.example.com';
  const start = host.indexOf('.') + 1;
  assert.equal(t.getSuffix(host, start, HostTable.hash(host.slice(start))), 42);
  assert.equal(t.getSuffix(host, 8, HostTable.hash('example.com')), -1);
  // Same hash, different text: a suffix of the right length but other characters must not match.
  assert.equal(t.getSuffix('www.h42.example.org', 4, HostTable.hash('h42.example.com')), undefined);
});
