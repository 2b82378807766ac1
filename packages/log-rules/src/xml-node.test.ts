import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXml } from './xml-node.ts';

test('accepts the OSSEC dialect: several roots, bare &, \\< in text, -- in comments', () => {
  const text = [
    '<!-- a comment -- with dashes -->',
    '<var name="X">a|b</var>',
    '<group name="g,">',
    '  <rule id="1" level="0"><match>R&D \\<script</match></rule>',
    '</group>',
    '<decoder name="d"><prematch>\\<log>\\.+\\</log></prematch></decoder>',
  ].join('\n');
  const { nodes, diagnostics } = parseXml(text, 'f.xml');
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(
    nodes.map((n) => n.name),
    ['var', 'group', 'decoder'],
  );
  const rule = nodes[1]!.children[0]!;
  assert.equal(rule.attributes.id, '1');
  assert.equal(rule.line, 4);
  assert.equal(rule.children[0]!.text, 'R&D \\<script');
  assert.equal(nodes[2]!.children[0]!.text, '\\<log>\\.+\\</log>');
});

test('an escaped backslash before the end tag still closes the element', () => {
  const { nodes, diagnostics } = parseXml('<rule id="1"><field name="x">E:\\\\</field></rule>', 'f.xml');
  assert.deepEqual(diagnostics, []);
  assert.equal(nodes[0]!.children[0]!.text, 'E:\\\\');
});

test('structural errors come with file and line', () => {
  const { diagnostics } = parseXml('<group>\n<rule id="1">\n<match>x</rule>\n</group>', 'bad.xml');
  assert.ok(diagnostics.length >= 1);
  assert.equal(diagnostics[0]!.code, 'LOGRULES_XML_MISMATCH');
  assert.equal(diagnostics[0]!.file, 'bad.xml');
  assert.equal(diagnostics[0]!.line, 3);
  const unclosed = parseXml('<group>\n<rule id="1">', 'u.xml').diagnostics;
  assert.deepEqual(
    unclosed.map((d) => [d.code, d.line]),
    [
      ['LOGRULES_XML_UNCLOSED', 1],
      ['LOGRULES_XML_UNCLOSED', 2],
    ],
  );
});
