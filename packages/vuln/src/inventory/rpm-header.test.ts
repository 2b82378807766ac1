import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRpmHeader, parseRpmHeader } from './rpm-header.ts';

test('header blob round trip, with and without epoch', () => {
  const a = { name: 'openssl-libs', epoch: '1', version: '3.0.7', release: '27.el9', arch: 'x86_64', sourceRpm: 'openssl-3.0.7-27.el9.src.rpm' };
  assert.deepEqual(parseRpmHeader(buildRpmHeader(a)), a);
  const b = { name: 'bash', version: '5.1.8', release: '9.el9', arch: 'x86_64', sourceRpm: 'bash-5.1.8-9.el9.src.rpm' };
  assert.deepEqual(parseRpmHeader(buildRpmHeader(b)), { ...b, epoch: undefined });
});

test('truncated blobs are refused', () => {
  const blob = buildRpmHeader({ name: 'x', version: '1', release: '1' });
  assert.equal(parseRpmHeader(blob.subarray(0, blob.length - 3)), undefined);
  assert.equal(parseRpmHeader(new Uint8Array(3)), undefined);
});
