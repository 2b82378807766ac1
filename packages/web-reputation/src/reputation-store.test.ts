import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReputationIndex } from './reputation-index.ts';
import { type ReputationPolicy, ReputationStore } from './reputation-store.ts';

const HIGH: ReputationPolicy = { level: 'high', blockUntested: false };

function store(feeds: Record<string, string>): ReputationStore {
  const s = new ReputationStore();
  for (const [name, text] of Object.entries(feeds)) {
    const r = s.updateFeed(text, { name });
    assert.ok(r.applied, `${name}: ${JSON.stringify(r.diagnostics)}`);
  }
  return s;
}
const action = (s: ReputationStore, url: string, p: ReputationPolicy = HIGH) => s.evaluate(url, p).action;

test('a listed domain blocks itself and every subdomain, not its parent or siblings', () => {
  const s = store({ list: 'evil.example\nbad.co.uk\n' });
  for (const u of [
    'http://evil.example/',
    'https://a.b.evil.example/x',
    'evil.example',
    'EVIL.Example.',
    'http://bad.co.uk',
    'https://x.bad.co.uk/',
  ]) {
    assert.equal(action(s, u), 'block', u);
  }
  for (const u of ['http://example/', 'http://notevil.example/', 'http://evil.example.org/', 'http://good.co.uk/', 'http://co.uk/']) {
    assert.equal(action(s, u), 'allow', u);
  }
  assert.deepEqual(s.evaluate('https://x.evil.example/p', HIGH), {
    url: 'https://x.evil.example/p',
    action: 'block',
    risk: 'dangerous',
    category: 'blocklist',
    feed: 'list',
  });
});

test('a public suffix entry only matches itself, so one tenant never blocks the others', () => {
  const s = new ReputationStore();
  const r = s.updateFeed('github.io\nevil.github.io\n', { name: 'l' });
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [['WEBREP_ENTRY_PUBLIC_SUFFIX', 1]],
  );
  assert.equal(action(s, 'https://evil.github.io/'), 'block');
  assert.equal(action(s, 'https://x.evil.github.io/'), 'block');
  assert.equal(action(s, 'https://good.github.io/'), 'allow');
  assert.equal(action(s, 'https://github.io/'), 'block');
});

test('IDN: Unicode and punycode spellings are the same entry', () => {
  const s = store({ l: 'bücher.example\nxn--80ak6aa92e.com\n' });
  assert.equal(action(s, 'https://xn--bcher-kva.example/'), 'block');
  assert.equal(action(s, 'https://BÜCHER.example/'), 'block');
  assert.equal(action(s, 'http://sub.bücher.example/a'), 'block');
  assert.equal(action(s, 'https://аррӏе.com/'), 'block');
  assert.equal(action(s, 'https://apple.com/'), 'allow');
});

test('IP literals: exact IPs, CIDR blocks, IPv6, and odd IPv4 spellings', () => {
  const s = store({ ips: '203.0.113.7\n198.51.100.0/24\n2001:db8::/32\n' });
  assert.equal(action(s, 'http://203.0.113.7/x'), 'block');
  assert.equal(action(s, 'http://203.0.113.8/x'), 'allow');
  assert.equal(action(s, 'http://198.51.100.200:8080/'), 'block');
  assert.equal(action(s, 'http://198.51.101.1/'), 'allow');
  assert.equal(action(s, 'http://[2001:db8:1::5]/'), 'block');
  assert.equal(action(s, 'http://[2001:db9::5]/'), 'allow');
  // 0xcb007107 and 3405803783 are 203.0.113.7 written otherwise; browsers accept both.
  assert.equal(action(s, 'http://0xcb.0.113.7/'), 'block');
  assert.equal(action(s, 'http://3405803783/'), 'block');
  assert.equal(action(s, '203.0.113.7'), 'block');
});

test('ports: an entry with a port matches only that port; one without matches all', () => {
  const s = store({ l: 'tracker.example:8443\nhttp://c2.example:8080/\nall.example\n' });
  assert.equal(action(s, 'https://tracker.example:8443/a'), 'block');
  assert.equal(action(s, 'https://tracker.example/a'), 'allow');
  assert.equal(action(s, 'http://c2.example:8080/beacon'), 'block');
  assert.equal(action(s, 'http://c2.example/beacon'), 'allow');
  assert.equal(action(s, 'https://all.example:9999/'), 'block');
  // Explicit default ports are the same URL as none.
  const u = store({ u: 'http://dl.example/payload.bin\n' });
  assert.equal(action(u, 'http://dl.example:80/payload.bin'), 'block');
  assert.equal(action(u, 'https://dl.example/payload.bin'), 'allow');
});

test('exact URLs and URL prefixes', () => {
  const s = store({ l: 'http://cdn.example/malware/x.exe\nhttp://cdn.example/kits/\n' });
  assert.equal(action(s, 'http://cdn.example/malware/x.exe'), 'block');
  assert.equal(action(s, 'http://cdn.example/malware/x.exe?utm=1#frag'), 'block');
  assert.equal(action(s, 'http://cdn.example/malware/y.exe'), 'allow');
  assert.equal(action(s, 'http://cdn.example/kits/a/b.zip'), 'block');
  assert.equal(action(s, 'http://cdn.example/kits'), 'allow');
  assert.equal(action(s, 'http://cdn.example/kitsch/'), 'allow');
  // Dot segments and escapes normalize before matching.
  assert.equal(action(s, 'http://cdn.example/x/../kits/a'), 'block');
  assert.equal(action(s, 'http://cdn.example/%6Bits/a'), 'allow');
});

test('allow beats block, whatever the order and specificity', () => {
  const s = store({
    block: 'evil.example\nhttp://shop.example/cart\n',
    allow: '# palisade: list=allow\nok.evil.example\nshop.example\n',
  });
  assert.equal(action(s, 'http://evil.example/'), 'block');
  assert.deepEqual(s.evaluate('http://a.ok.evil.example/', HIGH), {
    url: 'http://a.ok.evil.example/',
    action: 'allow',
    risk: 'safe',
    category: 'allow-list',
    feed: 'allow',
  });
  assert.equal(action(s, 'http://shop.example/cart'), 'allow');
});

test('security levels and untested', () => {
  const s = store({
    d: '# palisade: risk=dangerous category=malware\nd.example\n',
    h: '# palisade: risk=highly-suspicious category=phishing\nh.example\n',
    s: '# palisade: risk=suspicious category=ads\ns.example\n',
    u: '# palisade: risk=untested category=new-domain\nu.example\n',
  });
  const table = (p: ReputationPolicy) => ['d', 'h', 's', 'u', 'unlisted'].map((x) => action(s, `http://${x}.example/`, p));
  assert.deepEqual(table({ level: 'high', blockUntested: false }), ['block', 'block', 'block', 'allow', 'allow']);
  assert.deepEqual(table({ level: 'medium', blockUntested: false }), ['block', 'block', 'allow', 'allow', 'allow']);
  assert.deepEqual(table({ level: 'low', blockUntested: false }), ['block', 'allow', 'allow', 'allow', 'allow']);
  assert.deepEqual(table({ level: 'low', blockUntested: true }), ['block', 'allow', 'allow', 'block', 'block']);
  assert.deepEqual(s.evaluate('http://s.example/', { level: 'low', blockUntested: false }), {
    url: 'http://s.example/',
    action: 'allow',
    risk: 'suspicious',
    category: 'ads',
    feed: 's',
  });
  assert.deepEqual(s.evaluate('http://unlisted.example/', HIGH), {
    url: 'http://unlisted.example/',
    action: 'allow',
    risk: 'untested',
    category: null,
    feed: null,
  });
});

test('the highest risk wins among several block matches', () => {
  const s = store({
    sus: '# palisade: risk=suspicious\nexample.net\n',
    bad: '{"entries":[{"url":"http://x.example.net/a","risk":"dangerous","category":"c2"}]}',
  });
  assert.deepEqual(s.evaluate('http://x.example.net/a', { level: 'low', blockUntested: false }).category, 'c2');
  assert.equal(action(s, 'http://x.example.net/b', { level: 'low', blockUntested: false }), 'allow');
});

test('keyword rules', () => {
  const s = store({ k: '{"entries":[{"keyword":"xmrig","risk":"highly suspicious","category":"miner"}]}' });
  assert.equal(action(s, 'https://github.example/XMRig/releases'), 'block');
  assert.equal(action(s, 'https://github.example/other'), 'allow');
});

test('a feed that fails entirely keeps the previous version in force', () => {
  const s = store({ f: 'evil.example\n' });
  const bad = s.updateFeed('%%% not a feed %%%\n<<<>>>\n', { name: 'f' });
  assert.equal(bad.applied, false);
  assert.equal(bad.diagnostics.at(-1)!.code, 'WEBREP_FEED_UNUSABLE');
  assert.equal(action(s, 'http://evil.example/'), 'block');
  const badJson = s.updateFeed('{"entries": [', { name: 'f' });
  assert.equal(badJson.applied, false);
  assert.equal(badJson.diagnostics[0]!.code, 'WEBREP_FEED_JSON');
  assert.equal(action(s, 'http://evil.example/'), 'block');
  const good = s.updateFeed('other.example\n', { name: 'f' });
  assert.ok(good.applied);
  assert.equal(action(s, 'http://evil.example/'), 'allow');
  assert.equal(action(s, 'http://other.example/'), 'block');
});

test('the same entry listed many times is indexed once', () => {
  const idx = new ReputationIndex();
  const src = { feed: 'f', list: 'block' as const, risk: 'dangerous' as const, category: 'c' };
  const other = { ...src, feed: 'g' };
  for (let i = 0; i < 1000; i++) {
    idx.add({ kind: 'cidr', value: '10.0.0.0/8', port: 0, risk: 'dangerous', category: 'c', line: i }, src);
    idx.add({ kind: 'domain', value: 'dup.example', port: 0, risk: 'dangerous', category: 'c', line: i }, src);
    idx.add({ kind: 'url', value: 'dup.example:80/x', port: 80, risk: 'dangerous', category: 'c', line: i }, src);
  }
  idx.add({ kind: 'domain', value: 'dup.example', port: 0, risk: 'dangerous', category: 'c', line: 0 }, other);
  assert.equal(idx.lookup('http://10.1.2.3/').length, 1);
  assert.equal(idx.lookup('http://a.dup.example/').length, 2, 'one per feed');
  assert.equal(idx.lookup('http://dup.example/x').length, 3);
});
