import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4ToNumber, normalizeTarget } from './normalize-target.ts';

test('the hand-written fast path and the general path agree', () => {
  // An upper-case scheme is never taken by the fast path, so each pair compares the two paths.
  const inputs = [
    'http://evil.example/a/b.exe',
    'https://evil.example:8443/x?y=1&z=%20#frag',
    'http://1.2.3.4/',
    'http://1.2.3.4:8080/p',
    'https://a-b.c_d.example',
    'http://x.example?q=1',
    'http://x.example/a;b=c/d@e',
  ];
  for (const u of inputs) {
    const fast = normalizeTarget(u);
    const general = normalizeTarget(u.replace(/^https?/, (s) => s.toUpperCase()));
    assert.ok(fast, u);
    assert.deepEqual(fast, general, u);
  }
});

test('normalization folds what browsers fold', () => {
  const n = (u: string) => {
    const t = normalizeTarget(u);
    return t && `${t.hostKind} ${t.host} ${t.port} ${t.path}${t.query}`;
  };
  assert.equal(n('HTTP://User:Pw@EVIL.Example.:80/a/./b/../c#x'), 'domain evil.example 80 /a/c');
  assert.equal(n('https://bücher.example/'), 'domain xn--bcher-kva.example 443 /');
  assert.equal(n('http://0x7f.1/'), 'ipv4 127.0.0.1 80 /');
  assert.equal(n('http://[2001:DB8::1]:8080/'), 'ipv6 2001:db8::1 8080 /');
  assert.equal(n('2001:db8::1'), 'ipv6 2001:db8::1 0 ');
  assert.equal(n('evil.example:8080'), 'domain evil.example 8080 ');
  assert.equal(n('http://evil.example:99999/'), undefined);
  assert.equal(n(''), undefined);
});

test('only canonical dotted quads are IPv4 numbers', () => {
  assert.equal(ipv4ToNumber('1.2.3.4'), 0x01020304);
  assert.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToNumber('0.0.0.0'), 0);
  for (const bad of ['01.2.3.4', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', 'a.b.c.d', '10.0.0.01', '', '1.2.3.4 ']) {
    assert.equal(ipv4ToNumber(bad), undefined, bad);
  }
});
