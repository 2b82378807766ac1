import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectFeedFormat, normalizeCidr, parseFeed } from './parse-feed.ts';

const URLHAUS = `################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #
# Last updated: 2026-11-26 10:00:00 (UTC)                      #
################################################################
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3301001","2026-11-26 09:59:01","http://198.51.100.7:41562/i","online","2026-11-26 09:59:01","malware_download","32-bit,elf,mips,Mozi","https://urlhaus.abuse.ch/url/3301001/","geenensp"
"3301000","2026-11-26 09:58:12","https://evil.example/load/payload.exe","offline","","malware_download","exe","https://urlhaus.abuse.ch/url/3301000/","abuse_ch"
"3300999","broken line without closing quote
`;

test('URLhaus CSV: URLs become exact-URL entries categorized by threat; a broken line is reported', () => {
  assert.equal(detectFeedFormat(URLHAUS), 'urlhaus-csv');
  const r = parseFeed(URLHAUS, { name: 'urlhaus' });
  assert.ok(r.feed);
  assert.deepEqual(
    r.feed.entries.map((e) => [e.kind, e.value, e.port, e.category, e.risk, e.line]),
    [
      ['url', '198.51.100.7:41562/i', 41562, 'malware', 'dangerous', 6],
      ['url', 'evil.example:443/load/payload.exe', 443, 'malware', 'dangerous', 7],
    ],
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line, d.severity]),
    [['WEBREP_FEED_LINE_INVALID', 8, 'warning']],
  );
});

test('hosts files: sink addresses block, real addresses and localhost names are ignored', () => {
  const text =
    '# StevenBlack style\n127.0.0.1 localhost\n0.0.0.0 ads.example tracker.example # trailing\n:: v6ads.example\n10.1.2.3 intranet.example\nbogus-line\n';
  assert.equal(detectFeedFormat(text), 'hosts');
  const r = parseFeed(text, { name: 'hosts', file: 'hosts.txt' });
  assert.deepEqual(
    r.feed!.entries.map((e) => `${e.kind}:${e.value}`),
    ['domain:ads.example', 'domain:tracker.example', 'domain:v6ads.example'],
  );
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.file}:${d.line} ${d.code}`),
    ['hosts.txt:6 WEBREP_FEED_LINE_INVALID'],
  );
});

test('CIDR lists, Spamhaus DROP style with comments', () => {
  const text = '; Spamhaus DROP List\n1.10.16.0/20 ; SBL256894\n2.56.192.0/22 ; SBL459831\n203.0.113.9\n2001:db8:abcd::/48\n999.1.1.1/8\n';
  assert.equal(detectFeedFormat(text), 'cidr-list');
  const r = parseFeed(text, { name: 'drop' });
  assert.deepEqual(
    r.feed!.entries.map((e) => e.value),
    ['1.10.16.0/20', '2.56.192.0/22', '203.0.113.9/32', '2001:db8:abcd::/48'],
  );
  assert.deepEqual(
    r.diagnostics.map((d) => d.line),
    [6],
  );
  assert.equal(normalizeCidr('10.1.2.3/8')!.value, '10.0.0.0/8');
});

test('plain lists mix domains, URLs, IPs and prefixes; directives set risk, category and list', () => {
  const text =
    '# palisade: risk=suspicious category="crypto mining" list=block\nminer.example\nhttp://dl.example/tools/\nhttps://x.example/a.php?id=1\n192.0.2.1\nnot a host!!\n';
  assert.equal(detectFeedFormat(text), 'plain-list');
  const r = parseFeed(text, { name: 'p' });
  assert.deepEqual(
    r.feed!.entries.map((e) => [e.kind, e.value, e.risk, e.category]),
    [
      ['domain', 'miner.example', 'suspicious', 'crypto mining'],
      ['prefix', 'dl.example:80/tools/', 'suspicious', 'crypto mining'],
      ['url', 'x.example:443/a.php?id=1', 'suspicious', 'crypto mining'],
      ['cidr', '192.0.2.1/32', 'suspicious', 'crypto mining'],
    ],
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.line]),
    [['WEBREP_FEED_LINE_INVALID', 6]],
  );
});

test('Palisade JSON with per-entry risk and category, bad entries reported', () => {
  const text = JSON.stringify({
    name: 'corp',
    list: 'block',
    risk: 'highly suspicious',
    category: 'policy',
    entries: [
      'gambling.example',
      { domain: 'x.example', risk: 'suspicious' },
      { ip: '192.0.2.0/24' },
      { host: 'only.example', port: 8080 },
      { keyword: 'XMRig' },
      { nothing: 1 },
      { domain: 'y.example', risk: 'scary' },
    ],
  });
  const r = parseFeed(text, { name: 'file-name' });
  assert.equal(r.feed!.format, 'palisade-json');
  assert.equal(r.feed!.name, 'corp');
  assert.deepEqual(
    r.feed!.entries.map((e) => [e.kind, e.value, e.port, e.risk]),
    [
      ['domain', 'gambling.example', 0, 'highly suspicious'],
      ['domain', 'x.example', 0, 'suspicious'],
      ['cidr', '192.0.2.0/24', 0, 'highly suspicious'],
      ['host', 'only.example', 8080, 'highly suspicious'],
      ['keyword', 'xmrig', 0, 'highly suspicious'],
    ],
  );
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['WEBREP_FEED_JSON_ENTRY', 'WEBREP_FEED_JSON_ENTRY'],
  );
});

test('JSON syntax errors fail the feed', () => {
  const r = parseFeed('{\n  "entries": [\n    "a.example",\n  ]\n}', { name: 'j' });
  assert.equal(r.feed, undefined);
  assert.equal(r.diagnostics[0]!.code, 'WEBREP_FEED_JSON');
  assert.equal(r.diagnostics[0]!.severity, 'error');
  // Node reports an offset for some syntax errors only; when it does, it becomes line:column.
  const withPos = parseFeed('{\n  "entries": [\n    "a.example"\n  ] x\n}', { name: 'j' });
  assert.equal(withPos.diagnostics[0]!.line, 4);
});

test('an empty feed is valid and empty; a feed of garbage is an error', () => {
  assert.deepEqual(parseFeed('# nothing yet\n', { name: 'e' }).feed?.entries, []);
  const bad = parseFeed('!!!\n@@@\n', { name: 'g' });
  assert.equal(bad.feed, undefined);
  assert.equal(bad.diagnostics.at(-1)!.severity, 'error');
});

test('hosts files: names split on any whitespace, comments cut anywhere, lines without a name reported', () => {
  const text = [
    '0.0.0.0\tb.example\t\tc.example',
    '0.0.0.0   d.example   # x',
    '0.0.0.0 e.example#c',
    '0.0.0.0',
    '0.0.0.0 # only a comment',
    '127.0.0.1 localhost LOCALHOST f.example',
    '0.0.0.0\u00a0i.example',
    '0.0.0.0 j.example\u3000k.example',
    '0.0.0.0 l.example\r',
  ].join('\n');
  const r = parseFeed(text, { name: 'h', format: 'hosts' });
  assert.deepEqual(
    r.feed!.entries.map((e) => `${e.line}:${e.value}`),
    ['1:b.example', '1:c.example', '2:d.example', '3:e.example', '6:f.example', '7:i.example', '8:j.example', '8:k.example', '9:l.example'],
  );
  assert.deepEqual(
    r.diagnostics.map((d) => d.line),
    [4, 5],
  );
});
