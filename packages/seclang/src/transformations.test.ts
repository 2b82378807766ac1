import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRANSFORMATIONS as T } from './transformations.ts';

test('url decoding, including %u and full-width forms', () => {
  assert.equal(T.urldecode!('a%20b+c%zz'), 'a b c%zz');
  assert.equal(T.urldecodeuni!('%u0041%uff1c'), 'A<');
});

test('html entity, js and css decoding', () => {
  assert.equal(T.htmlentitydecode!('&lt;a&#x41;&#66;&quot&amp;'), '<aAB"&');
  assert.equal(T.jsdecode!('\\x41\\u0042\\n\\101'), 'AB\nA');
  assert.equal(T.cssdecode!('\\3c script\\3e'), '<script>');
});

test('lowercase is ASCII-only so UTF-8 bytes stay intact', () => {
  assert.equal(T.lowercase!('AbC\xc3\x80'), 'abc\xc3\x80');
});

test('cmdLine, whitespace and comment handling', () => {
  assert.equal(T.cmdline!("C^at  /ETC/pass'wd ; ls"), 'cat/etc/passwd ls');
  assert.equal(T.compresswhitespace!('a \t\n b'), 'a b');
  assert.equal(T.removewhitespace!('a \t b'), 'ab');
  assert.equal(T.replacecomments!('a/*x*/b/*open'), 'a b ');
  assert.equal(T.removecommentschar!('a/*b*/c--d#e'), 'abcde');
  assert.equal(T.removenulls!('a\0b'), 'ab');
});

test('path normalisation', () => {
  assert.equal(T.normalizepath!('/a/./b/../c//d'), '/a/c/d');
  assert.equal(T.normalizepathwin!('C:\\a\\..\\b'), 'C:/b');
});

test('utf8toUnicode, escapeSeqDecode, base64, hex, hashes, length', () => {
  assert.equal(T.utf8tounicode!('\xc3\xa9x'), '%u00e9x');
  assert.equal(T.escapeseqdecode!('\\x41\\t'), 'A\t');
  assert.equal(T.base64decode!('aGVsbG8='), 'hello');
  assert.equal(T.hexencode!('AB'), '4142');
  assert.equal(T.hexencode!(T.sha1!('abc')), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(T.length!('abcd'), '4');
});
