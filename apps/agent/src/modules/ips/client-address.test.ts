import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveClientAddress, parseTrustedProxies } from './client-address.ts';

const { cidrs } = parseTrustedProxies(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);

test('an untrusted peer is the client whatever X-Forwarded-For says', () => {
  assert.equal(deriveClientAddress('203.0.113.9', '1.1.1.1', cidrs), '203.0.113.9');
});

test('behind trusted proxies the left-most untrusted hop is the client', () => {
  assert.equal(deriveClientAddress('10.1.2.3', '198.51.100.4, 10.9.9.9', cidrs), '198.51.100.4');
  assert.equal(deriveClientAddress('192.0.2.7', ['198.51.100.4', '10.2.2.2'], cidrs), '198.51.100.4');
});

test('a forged left-most entry does not win over the first untrusted hop', () => {
  assert.equal(deriveClientAddress('10.0.0.1', '6.6.6.6, 198.51.100.77', cidrs), '198.51.100.77');
});

test('ports, brackets and IPv4-mapped peers are normalised; garbage stops the walk', () => {
  assert.equal(deriveClientAddress('::ffff:10.0.0.1', '198.51.100.4:5555', cidrs), '198.51.100.4');
  assert.equal(deriveClientAddress('2001:db8::1', '[2001:db8:ffff::2]:443, 2a00:1450::1', cidrs), '2a00:1450::1');
  assert.equal(deriveClientAddress('10.0.0.1', 'unknown', cidrs), '10.0.0.1');
  assert.equal(deriveClientAddress('10.0.0.1', 'unknown, 10.0.0.2', cidrs), '10.0.0.2');
});

test('invalid trusted proxy entries are reported', () => {
  assert.deepEqual(parseTrustedProxies(['10.0.0.0/8', 'nope', '1.2.3.4/99']).invalid, ['nope', '1.2.3.4/99']);
});
