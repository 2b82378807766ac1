import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineHash, HostTable, hashForward, IntTable } from './host-table.ts';

test('inserts, grows and finds whole keys and suffixes by their hash', () => {
  const t = new HostTable(2, 1);
  for (let i = 0; i < 5000; i++) t.setValue(t.intern(`h${i}.example.com`, HostTable.hash(`h${i}.example.com`)), i + 1);
  t.setValue(t.intern('example.com', HostTable.hash('example.com')), -1);
  assert.equal(t.size, 5001);
  for (let i = 0; i < 5000; i += 97) assert.equal(t.get(`h${i}.example.com`), i + 1);
  assert.equal(t.get('h5000.example.com'), undefined);
  // Interning an existing key returns its bucket, value intact.
  assert.equal(t.value(t.intern('h7.example.com', HostTable.hash('h7.example.com'))), 8);
  assert.equal(t.size, 5001);
  const host = 'www.h42.example.com';
  const start = host.indexOf('.') + 1;
  assert.equal(t.value(t.findSuffix(host, start, host.length, HostTable.hash(host.slice(start)))), 43);
  assert.equal(t.value(t.findSuffix(host, 8, host.length, HostTable.hash('example.com'))), -1);
  // Same hash, different text: a suffix of the right length but other characters must not match.
  assert.equal(t.findSuffix('www.h42.example.org', 4, 19, HostTable.hash('h42.example.com')), -1);
  // A range in the middle of a longer string: the host of a URL, found in place.
  const url = 'http://h42.example.com:8080/x';
  assert.equal(t.value(t.findSuffix(url, 7, 22, HostTable.hashRange(url, 7, 22))), 43);
  assert.throws(() => t.intern('bücher.example', HostTable.hash('bücher.example')), /not ASCII/);
});

test('joined keys are found piecewise and flags stay apart from values', () => {
  const t = new HostTable();
  // An exact-URL key is host + path + query, taken from a URL that also has a scheme and port.
  const url = 'http://cdn.example:8080/kits/a.zip?x=1#f';
  const [hs, he, ps, pe, qe] = [7, 18, 23, 34, 38];
  const h = combineHash(HostTable.hashRange(url, hs, he), hashForward(url, pe, qe, hashForward(url, ps, pe)));
  assert.equal(h, combineHash(HostTable.hash('cdn.example'), hashForward('/kits/a.zip?x=1', 0, 15)), 'hashing continues across pieces');
  const b = t.intern('cdn.example/kits/a.zip?x=1', h);
  t.setValue(b, 5);
  t.addFlags(b, 2);
  assert.equal(t.findJoined(url, hs, he, ps, qe, h), b);
  assert.equal(t.value(b), 5);
  assert.equal(t.flags(b), 2);
  // Same length and hash but different characters, or the query left off: no match.
  assert.equal(t.findJoined(url.replace('cdn.example', 'cdn.exampl_'), hs, he, ps, qe, h), -1);
  assert.equal(t.findJoined(url, hs, he, ps, pe, h), -1);
  // internJoined finds the same key given in other pieces.
  assert.equal(t.internJoined('cdn.example:80/kits/a.zip?x=1', 0, 11, 14, 29, h), b);
  assert.equal(t.size, 1);
});

test('the int table maps int32 keys, negative and zero included, through growth', () => {
  const m = new IntTable(1);
  for (let i = -500; i < 500; i++) m.set(i * 7919, i + 1000);
  m.set(0x7fffffff, 3);
  m.set(-0x80000000, 4);
  for (let i = -500; i < 500; i++) assert.equal(m.get(i * 7919), i + 1000);
  assert.equal(m.get(0x7fffffff), 3);
  assert.equal(m.get(-0x80000000), 4);
  assert.equal(m.get(1), 0);
  m.set(0, 9);
  assert.equal(m.get(0), 9);
  assert.equal(m.size, 1002);
});

test('findHost: flag-only buckets are taken on hash and length, buckets with a value are compared in full', () => {
  const t = new HostTable();
  // Two different names forced onto one hash (the table takes the hash as given).
  const urlOnly = t.intern('aaaa.example', 42);
  t.addFlags(urlOnly, 1);
  const listed = t.intern('bbbb.example', 42);
  t.setValue(listed, 7);
  t.addFlags(listed, 2);
  assert.equal(t.findHost('bbbb.example', 0, 12, 42), listed);
  assert.equal(t.foundFlags, 3, 'the flag-only bucket before it is counted too (harmless: URL probes compare the host)');
  assert.equal(t.findHost('aaaa.example', 0, 12, 42), -1);
  assert.equal(t.foundFlags, 1);
  assert.equal(t.findHost('cccc.example', 0, 12, 42), -1, 'a look-alike never gets the value');
  assert.equal(t.findHost('bbbb.example.org', 0, 16, 42), -1);
  assert.equal(t.foundFlags, 0, 'another length is another key');
  assert.equal(t.findSuffix('bbbb.example', 0, 12, 43), -1);
});
