import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redirectScript, TransparentRedirect } from './transparent-redirect.ts';

test("the redirect script replaces Palisade's table atomically and hooks prerouting only", () => {
  const s = redirectScript([{ service: 'shop', port: 8080, toPort: 15001 }]);
  assert.match(s, /^table inet palisade_ips\ndelete table inet palisade_ips\n/);
  assert.match(s, /type nat hook prerouting priority dstnat/);
  assert.match(s, /tcp dport 8080 redirect to :15001 comment "palisade-ips shop"/);
  assert.doesNotMatch(s, /hook output/);
  assert.equal(redirectScript([]), 'table inet palisade_ips\ndelete table inet palisade_ips\n');
});

test('remove() runs only after an apply with rules', async () => {
  const ran: string[] = [];
  const r = new TransparentRedirect(async (s) => {
    ran.push(s);
  });
  await r.remove();
  assert.equal(ran.length, 0);
  await r.apply([{ service: 'a', port: 80, toPort: 15080 }]);
  await r.remove();
  assert.equal(ran.length, 2);
  assert.doesNotMatch(ran[1]!, /redirect/);
});
