import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectXss, isXssInContext } from './detect-xss.ts';
import { Html5Flags } from './html5-tokenizer.ts';

test('flags dangerous tags, attributes, URLs and comments', () => {
  for (const s of [
    '<script>alert(1)</script>',
    '<SCRIPT SRC=//x.example/x.js>',
    '<svg/onload=alert(1)>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="  &#106;avascript:alert(1)">x</a>',
    '<a href="&#x4A;AVASCRIPT:alert(1)">x</a>',
    '<a href=" data:text/html,xx">',
    '<div style="x:expression(alert(1))">',
    '<!DOCTYPE html>',
    '<!--[if IE]><script>alert(1)</script><![endif]-->',
    '<?import namespace="x">',
    '<a attributeName=onclick>',
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)",
    'x onclick=alert(1)',
    '<scr\0ipt>alert(1)</script>',
  ]) {
    assert.equal(detectXss(s), true, JSON.stringify(s));
  }
});

test('leaves ordinary text and markup alone', () => {
  for (const s of [
    '',
    'hello world',
    'a < b and c > d',
    '<b>bold</b> <i>it</i>',
    '<a href="https://example.com/page?q=1">link</a>',
    '<p class="intro" title="x">text</p>',
    'O\'Reilly & Sons "quoted"',
    'java is an island',
  ]) {
    assert.equal(detectXss(s), false, JSON.stringify(s));
  }
});

test('the starting context matters', () => {
  // only dangerous once the value is known to sit inside a double-quoted attribute
  const s = 'x" onload="alert(1)';
  assert.equal(isXssInContext(s, Html5Flags.DATA_STATE), false);
  assert.equal(isXssInContext(s, Html5Flags.VALUE_DOUBLE_QUOTE), true);
});

test('an entity decoding to a huge value is not decoded (C returns "&")', () => {
  assert.equal(detectXss('<a href="&#99999999999;javascript:x">'), false);
});
