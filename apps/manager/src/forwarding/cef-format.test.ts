import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeCefHeader, escapeCefValue, formatCef } from './cef-format.ts';
import { parseCef } from './testing/syslog-parser.ts';
import { sampleEvent } from './testing/sample-event.ts';

const HOSTILE = 'a|b=c\\d\ne\rf \\=| =x end=';

test('a CEF line has the documented header and extension for an IPS block', () => {
  const e = sampleEvent({ id: '11111111-2222-4333-8444-555555555555' });
  assert.equal(
    formatCef(e),
    // The header does not escape `=`; the extension does.
    'CEF:0|Palisade|Palisade Manager|0.1.0|3943100|web: blocked GET /?id=1 OR 1=1 from 203.0.113.9|8|' +
      'rt=1772600767089 dvchost=web-1 dvc=10.0.0.5 deviceExternalId=8d0c1c2e-5b7a-4c9e-9a51-0d2f1f3a4b5c ' +
      'externalId=11111111-2222-4333-8444-555555555555 cat=ips act=blocked src=203.0.113.9 ' +
      'request=GET /?id\\=1 OR 1\\=1 HTTP/1.1 cnt=1 msg=web: blocked GET /?id\\=1 OR 1\\=1 from 203.0.113.9 ' +
      'cs1Label=ruleId cs1=942100 cs2Label=eventType cs2=ips.blocked cs3Label=tenantId cs3=primary ' +
      'cs4Label=group cs4=web cs6Label=cves cs6=CVE-2021-44228',
  );
});

test('escaping: pipes and backslashes in the header, equals, backslashes and line breaks in values', () => {
  assert.equal(escapeCefHeader('a|b\\c\nd'), 'a\\|b\\\\c d');
  assert.equal(escapeCefValue('a=b\\c\nd\re|f'), 'a\\=b\\\\c\\nd\\re|f');
});

test('hostile values survive a round trip through an independent CEF parser', () => {
  const e = sampleEvent({
    message: HOSTILE,
    hostname: 'h|o=s\\t',
    group: 'g=1 cs1=forged',
    ruleId: 'rule|with=stuff',
    type: 'ips.blocked',
    details: { action: 'x=y', clientAddress: '198.51.100.7', requestLine: `GET /${HOSTILE}`, path: 'C:\\temp\\evil|name=1' },
  });
  const line = formatCef(e);
  assert.ok(!/[\r\n]/.test(line), 'one line');
  const r = parseCef(line);
  assert.equal(r.vendor, 'Palisade');
  assert.equal(r.severity, '8');
  // The header cannot carry line breaks: they become spaces; the rest survives.
  assert.equal(r.name, HOSTILE.replace(/[\r\n]+/g, ' '));
  assert.equal(r.extension.msg, HOSTILE);
  assert.equal(r.extension.dvchost, 'h|o=s\\t');
  assert.equal(r.extension.cs4, 'g=1 cs1=forged');
  assert.equal(r.extension.cs1, 'rule|with=stuff', 'a value cannot forge another key');
  assert.equal(r.extension.act, 'x=y');
  assert.equal(r.extension.request, `GET /${HOSTILE}`);
  assert.equal(r.extension.filePath, 'C:\\temp\\evil|name=1');
  // Non-numeric rule id: the type's signature id in the IPS block.
  assert.equal(r.signatureId, '3000002');
});
