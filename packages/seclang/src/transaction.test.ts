import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRuleSet } from './rule-set.ts';
import { Transaction } from './transaction.ts';

function rules(text: string) {
  const r = loadRuleSet([{ name: 't.conf', text }]);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
}

function run(text: string, req: { uri?: string; method?: string; headers?: [string, string][]; body?: string }) {
  const tx = new Transaction(rules(text));
  tx.processConnection('10.0.0.1');
  tx.processUri(req.uri ?? '/', req.method ?? 'GET');
  for (const [k, v] of req.headers ?? []) tx.addRequestHeader(k, v);
  tx.processRequestHeaders();
  if (req.body !== undefined) tx.appendRequestBody(req.body);
  tx.processRequestBody();
  return tx;
}

test('deny interrupts with the rule id and status; DetectionOnly only records', () => {
  const base = 'SecRule ARGS:q "@rx attack" "id:10,phase:1,deny,status:406,msg:\'hit %{MATCHED_VAR_NAME}\'"';
  const tx = run(`SecRuleEngine On\n${base}`, { uri: '/?q=an+attack' });
  assert.deepEqual(tx.interruption, { action: 'deny', status: 406, ruleId: 10, phase: 1 });
  assert.equal(tx.matchedRules[0]?.msg, 'hit ARGS:q');
  const d = run(`SecRuleEngine DetectionOnly\n${base}`, { uri: '/?q=an+attack' });
  assert.equal(d.interruption, null);
  assert.deepEqual(d.matchedRules.map((m) => m.id), [10]);
});

test('chains, captures, setvar arithmetic and anomaly-style scoring', () => {
  const text = `SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=0"
SecRule ARGS "@rx (\\d+)-(\\d+)" "id:2,phase:2,pass,capture,chain,setvar:tx.score=+%{tx.2}"
  SecRule TX:1 "@eq 12" "setvar:tx.score=+1"
SecRule TX:score "@ge 35" "id:3,phase:2,deny,msg:'score %{tx.score}'"`;
  const tx = run(text, { uri: '/?a=12-34' });
  assert.equal(tx.getTx('score'), '35');
  assert.equal(tx.interruption?.ruleId, 3);
  assert.equal(tx.matchedRules.at(-1)?.msg, 'score 35');
});

test('skipAfter jumps to the marker; ctl:ruleRemoveById and target removal apply at runtime', () => {
  const text = `SecRuleEngine On
SecRule REQUEST_URI "@beginsWith /skip" "id:1,phase:1,pass,nolog,skipAfter:END"
SecRule ARGS "@rx x" "id:2,phase:1,deny"
SecMarker END
SecRule REQUEST_URI "@beginsWith /rm" "id:3,phase:1,pass,nolog,ctl:ruleRemoveById=4,ctl:ruleRemoveTargetById=5;ARGS:safe"
SecRule ARGS "@rx q" "id:4,phase:2,deny"
SecRule ARGS "@rx y" "id:5,phase:2,deny"`;
  assert.equal(run(text, { uri: '/skip?a=x' }).interruption, null);
  assert.equal(run(text, { uri: '/other?a=x' }).interruption?.ruleId, 2);
  assert.equal(run(text, { uri: '/rm?safe=y&other=q' }).interruption, null);
  assert.equal(run(text, { uri: '/rm?bad=y' }).interruption?.ruleId, 5);
});

test('variables: counting, exclusions, regex keys, headers and cookies', () => {
  const text = `SecRuleEngine On
SecRule &ARGS "@eq 3" "id:1,phase:2,pass,log"
SecRule ARGS|!ARGS:skip "@rx evil" "id:2,phase:2,pass,log"
SecRule REQUEST_COOKIES:/^sess/ "@rx ^abc$" "id:3,phase:1,pass,log"
SecRule REQUEST_HEADERS:user-agent "@pm nikto" "id:4,phase:1,pass,log"
SecRule REQUEST_FILENAME "@streq /a b/c" "id:5,phase:1,pass,log"`;
  const tx = run(text, { uri: '/a%20b/c?skip=evil&x=1&y=2', headers: [['User-Agent', 'Nikto/2'], ['Cookie', 'session_id=abc; other=1']] });
  assert.deepEqual(tx.matchedRules.map((m) => m.id).sort(), [1, 3, 4, 5]);
});

test('body processors: urlencoded, JSON, XML and multipart', () => {
  const text = `SecRuleEngine On
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:100,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^text/xml" "id:101,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule ARGS_POST|XML:/* "@rx evil" "id:1,phase:2,deny"
SecRule FILES "@rx \\.php$" "id:2,phase:2,deny"
SecRule REQBODY_ERROR "!@eq 0" "id:3,phase:2,deny,status:400"`;
  const post = (ct: string, body: string) => run(text, { method: 'POST', headers: [['Content-Type', ct]], body });
  assert.equal(post('application/x-www-form-urlencoded', 'a=ev%69l').interruption?.ruleId, 1);
  assert.equal(post('application/json', '{"a":{"b":["x","evil"]}}').interruption?.ruleId, 1);
  assert.equal(post('application/json', '{"a":').interruption?.ruleId, 3);
  assert.equal(post('text/xml', '<r><a x="1">evil</a></r>').interruption?.ruleId, 1);
  assert.equal(post('text/xml', '<r><a>').interruption?.ruleId, 3);
  const mp = '--XX\r\nContent-Disposition: form-data; name="f"; filename="s.php"\r\n\r\n<?php\r\n--XX--\r\n';
  assert.equal(post('multipart/form-data; boundary=XX', mp).interruption?.ruleId, 2);
  assert.equal(post('application/x-www-form-urlencoded', 'a=fine').interruption, null);
});

test('request body limit: Reject interrupts with 413, ProcessPartial truncates', () => {
  const text = 'SecRuleEngine On\nSecRequestBodyLimit 10\nSecRequestBodyLimitAction Reject';
  const tx = run(text, { method: 'POST', headers: [['Content-Type', 'text/plain']], body: 'x'.repeat(11) });
  assert.equal(tx.interruption?.status, 413);
  const p = run('SecRuleEngine On\nSecRequestBodyLimit 10\nSecRequestBodyLimitAction ProcessPartial', { method: 'POST', body: 'x'.repeat(11) });
  assert.equal(p.interruption, null);
  assert.equal(p.requestBodyTruncated, true);
});

test('response phases see status, headers and body of inspected MIME types', () => {
  const text = `SecRuleEngine On
SecResponseBodyAccess On
SecRule RESPONSE_STATUS "@streq 500" "id:1,phase:3,pass,log"
SecRule RESPONSE_BODY "@rx SQL syntax" "id:2,phase:4,deny"`;
  const tx = new Transaction(rules(text));
  tx.processUri('/', 'GET');
  tx.processRequestHeaders();
  tx.processRequestBody();
  tx.addResponseHeader('Content-Type', 'text/html; charset=utf-8');
  tx.processResponseHeaders(500);
  tx.appendResponseBody('You have an error in your SQL syntax');
  tx.processResponseBody();
  assert.deepEqual(tx.matchedRules.map((m) => m.id), [1, 2]);
  assert.equal(tx.interruption?.phase, 4);
});

test('non-ASCII input is matched as UTF-8 bytes, like ModSecurity', () => {
  const tx = run('SecRuleEngine On\nSecRule ARGS "@rx \\xc3\\xa9" "id:1,phase:1,deny"', { uri: '/?a=%C3%A9' });
  assert.equal(tx.interruption?.ruleId, 1);
  const tx2 = run('SecRuleEngine On\nSecRule REQUEST_HEADERS:x "@rx ^\\x{c3}\\x{a9}$" "id:1,phase:1,deny"', { headers: [['X', 'é']] });
  assert.equal(tx2.interruption?.ruleId, 1);
});
