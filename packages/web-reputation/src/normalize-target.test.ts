import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4ToNumber, normalizeTarget, ScannedUrl, scanUrl } from './normalize-target.ts';
import { ReputationStore } from './reputation-store.ts';

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

test('the in-place scanner takes only input that needs no folding, and reads its parts right', () => {
  const r = new ScannedUrl();
  const parts = (u: string) => {
    if (!scanUrl(u, r)) return undefined;
    const host = u.slice(r.hostStart, r.hostEnd);
    return `${r.ipv4 >= 0 ? 'ipv4' : 'domain'} ${host} ${r.port} ${u.slice(r.pathStart, r.pathEnd)} ${u.slice(r.pathEnd, r.queryEnd)}`;
  };
  assert.equal(parts('https://evil.example:8443/a/b.exe?x=1&y#frag'), 'domain evil.example 8443 /a/b.exe ?x=1&y');
  assert.equal(parts('http://evil.example?q'), 'domain evil.example 80  ?q');
  assert.equal(parts('http://evil.example'), 'domain evil.example 80  ');
  assert.equal(parts('evil.example:8080'), 'domain evil.example 8080  ');
  assert.equal(parts('http://203.0.113.7:65535/x'), 'ipv4 203.0.113.7 65535 /x ');
  assert.equal(r.ipv4, 0xcb007107);
  // Everything that needs folding or checking goes to the general path (false here):
  for (const u of [
    'HTTP://evil.example/', // upper-case scheme
    'http://Evil.example/', // upper-case host
    'http://bücher.example/', // IDN
    'http://xn--bcher-kva.example./', // trailing dot
    'http://user:pw@evil.example/', // userinfo
    'http://evil.example/%41', // percent-encoding
    'http://evil.example/a/../b', // dot segment
    'http://evil.example/a b', // space
    'http://[2001:db8::1]/', // IPv6 literal
    'http://0x7f.1/', // other IPv4 spellings
    'http://3405803783/',
    'http://1.2.3.04/',
    'http://evil.example:65536/', // port out of range
    'http://evil.example:/', // empty port
    'http://evil.example#frag', // fragment without a path
    'http://.evil.example/',
    'ftp://evil.example/',
    '',
  ]) {
    assert.equal(scanUrl(u, r), false, u);
  }
  assert.equal(normalizeTarget('http://Evil.Example./a')?.host, 'evil.example');
});

test('verdicts are the same whether a URL is read in place or normalized first', () => {
  const s = new ReputationStore();
  s.updateFeed('evil.example\nhttp://cdn.example/kits/\nhttp://dl.example/x.exe?id=1\n10.0.0.0/8\nhttp://203.0.113.7:8080/p\n', {
    name: 'b',
  });
  s.updateFeed('ok.evil.example\n', { name: 'a', list: 'allow' });
  const policy = { level: 'high' as const, blockUntested: false };
  for (const u of [
    'http://evil.example/',
    'https://a.evil.example/x?y',
    'http://ok.evil.example/',
    'http://cdn.example/kits/a/b.zip',
    'http://cdn.example/kitsch',
    'http://dl.example/x.exe?id=1',
    'http://dl.example/x.exe?id=2',
    'http://10.1.2.3/',
    'http://203.0.113.7:8080/p',
    'http://203.0.113.7/p',
    'evil.example',
    'evil.example:443',
  ]) {
    const inPlace = s.evaluate(u, policy);
    // The upper-case scheme forces the normalizing path; the verdict must not change.
    const normalized = s.evaluate(
      u.replace(/^https?/, (x) => x.toUpperCase()),
      policy,
    );
    assert.deepEqual({ ...normalized, url: u }, inPlace, u);
  }
  assert.equal(s.evaluate('http://cdn.example/kits/a/b.zip', policy).action, 'block');
  assert.equal(s.evaluate('http://ok.evil.example/', policy).action, 'allow');
});
