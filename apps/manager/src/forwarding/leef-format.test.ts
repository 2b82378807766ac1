import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeLeefValue, formatLeef } from './leef-format.ts';
import { parseLeef } from './testing/syslog-parser.ts';
import { sampleEvent } from './testing/sample-event.ts';

test('a LEEF 2.0 record: header with the tab delimiter, documented attributes', () => {
  const e = sampleEvent({
    module: 'firewall',
    type: 'firewall.deny',
    ruleId: 'drop-ssh',
    severity: 'medium',
    details: { src: '192.0.2.1', dst: '10.0.0.5', srcPort: 51000, dstPort: 22, proto: 'tcp', kind: 'deny', count: 3 },
  });
  const line = formatLeef(e);
  assert.ok(line.startsWith('LEEF:2.0|Palisade|Palisade Manager|0.1.0|4000001|x09|devTime=2026-03-04T05:06:07.089Z\t'));
  const r = parseLeef(line);
  assert.deepEqual(
    {
      sev: r.attributes.sev,
      cat: r.attributes.cat,
      src: r.attributes.src,
      dst: r.attributes.dst,
      srcPort: r.attributes.srcPort,
      dstPort: r.attributes.dstPort,
      proto: r.attributes.proto,
      action: r.attributes.action,
      count: r.attributes.count,
    },
    {
      sev: '5',
      cat: 'firewall',
      src: '192.0.2.1',
      dst: '10.0.0.5',
      srcPort: '51000',
      dstPort: '22',
      proto: 'tcp',
      action: 'deny',
      count: '3',
    },
  );
  assert.equal(r.attributes.devTimeFormat, "yyyy-MM-dd'T'HH:mm:ss.SSSX");
  assert.equal(r.attributes.identHostName, 'web-1');
});

test('escaping: tabs, line breaks and backslashes are escaped; pipes and equals need not be', () => {
  assert.equal(escapeLeefValue('a\tb\nc\rd\\e|f=g'), 'a\\tb\\nc\\rd\\\\e|f=g');
});

test('hostile values survive a round trip through an independent LEEF parser', () => {
  const hostile = 'x|y=z\\w\tforged=1\nnext=2\r|';
  const e = sampleEvent({ message: hostile, hostname: 'h=1\tcat=forged', group: '|grp|', ruleId: 'r=1' });
  const line = formatLeef(e);
  assert.ok(!/[\r\n]/.test(line));
  const r = parseLeef(line);
  assert.equal(r.attributes.msg, hostile);
  assert.equal(r.attributes.identHostName, 'h=1\tcat=forged');
  assert.equal(r.attributes.cat, 'ips', 'a value cannot forge another attribute');
  assert.equal(r.attributes.forged, undefined);
  assert.equal(r.attributes.group, '|grp|');
  assert.equal(r.attributes.ruleId, 'r=1');
});
