import type { Diagnostic } from '@palisade/diagnostics';
import { LineIndex } from '@palisade/diagnostics';

/** One element of an OSSEC-style XML file, with the position of its start tag. */
export interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  /** Raw text content (no entity decoding: OSSEC keeps `\<` and `&` verbatim for its regexes). */
  text: string;
  line: number;
  column: number;
}

/**
 * Parses the XML dialect OSSEC/Wazuh rule and decoder files use. It is not XML: files have several
 * root elements, text may contain bare `&` and `\<`, and comments may contain `--`. So this is a
 * small hand-written scanner that accepts exactly that dialect and reports real structural errors
 * (unclosed or mismatched tags) with their line numbers.
 */
export function parseXml(text: string, file: string): { nodes: XmlNode[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const index = new LineIndex(text);
  const roots: XmlNode[] = [];
  const stack: XmlNode[] = [];
  const err = (code: string, message: string, offset: number): void => {
    const pos = index.position(offset);
    diagnostics.push({ code, message, severity: 'error', file, line: pos.line, column: pos.column });
  };
  let i = 0;
  const n = text.length;
  let textStart = 0;
  const flushText = (end: number): void => {
    const top = stack[stack.length - 1];
    if (top && end > textStart) top.text += text.slice(textStart, end);
  };
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    // `\<` inside text is an escaped character for os_regex, not markup.
    // It still closes the current element when it spells that element's end tag (`E:\\</field>`).
    if (lt > 0 && text.charCodeAt(lt - 1) === 92) {
      const top = stack[stack.length - 1];
      if (!top || !text.startsWith(`</${top.name}>`, lt)) {
        i = lt + 1;
        continue;
      }
    }
    flushText(lt);
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) {
        err('LOGRULES_XML_UNCLOSED_COMMENT', 'comment is never closed', lt);
        i = n;
        textStart = n;
        break;
      }
      i = end + 3;
      textStart = i;
      continue;
    }
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      i = end < 0 ? n : end + 2;
      textStart = i;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      const top = stack[stack.length - 1];
      if (top) top.text += text.slice(lt + 9, end < 0 ? n : end);
      i = end < 0 ? n : end + 3;
      textStart = i;
      continue;
    }
    if (text.startsWith('<!', lt)) {
      const end = text.indexOf('>', lt);
      i = end < 0 ? n : end + 1;
      textStart = i;
      continue;
    }
    if (text.charCodeAt(lt + 1) === 47) {
      // closing tag
      const end = text.indexOf('>', lt);
      if (end < 0) {
        err('LOGRULES_XML_SYNTAX', 'closing tag is never finished', lt);
        i = n;
        textStart = n;
        break;
      }
      const name = text.slice(lt + 2, end).trim();
      const top = stack[stack.length - 1];
      if (!top) err('LOGRULES_XML_MISMATCH', `closing tag </${name}> without an open element`, lt);
      else if (top.name !== name) {
        err('LOGRULES_XML_MISMATCH', `closing tag </${name}> does not match <${top.name}> opened on line ${top.line}`, lt);
        // Recover if the name closes an outer element, so that one typo gives one diagnostic.
        const at = stack.map((s) => s.name).lastIndexOf(name);
        if (at >= 0) stack.length = at;
      } else stack.pop();
      i = end + 1;
      textStart = i;
      continue;
    }
    // opening tag
    let j = lt + 1;
    while (j < n && /[A-Za-z0-9_.:-]/.test(text[j]!)) j++;
    const name = text.slice(lt + 1, j);
    if (!name) {
      // A bare `<` in text: OSSEC would reject it too, but keep it as text so the error says where.
      err('LOGRULES_XML_SYNTAX', 'unescaped "<" (write "\\<" inside patterns)', lt);
      i = lt + 1;
      textStart = lt;
      continue;
    }
    const attributes: Record<string, string> = {};
    let selfClosing = false;
    let closed = false;
    while (j < n) {
      const c = text[j]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        j++;
        continue;
      }
      if (c === '>') {
        j++;
        closed = true;
        break;
      }
      if (c === '/' && text[j + 1] === '>') {
        j += 2;
        selfClosing = true;
        closed = true;
        break;
      }
      const m = /^([A-Za-z0-9_.:-]+)\s*=\s*("([^"]*)"|'([^']*)')/.exec(text.slice(j, j + 4096));
      if (!m) {
        err('LOGRULES_XML_SYNTAX', `malformed attribute in <${name}>`, j);
        const end = text.indexOf('>', j);
        j = end < 0 ? n : end + 1;
        closed = end >= 0;
        break;
      }
      attributes[m[1]!] = m[3] ?? m[4] ?? '';
      j += m[0].length;
    }
    if (!closed) err('LOGRULES_XML_SYNTAX', `tag <${name}> is never finished`, lt);
    const pos = index.position(lt);
    const node: XmlNode = { name, attributes, children: [], text: '', line: pos.line, column: pos.column };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else roots.push(node);
    if (!selfClosing) stack.push(node);
    i = j;
    textStart = i;
  }
  flushText(n);
  for (const open of stack) {
    diagnostics.push({
      code: 'LOGRULES_XML_UNCLOSED',
      message: `<${open.name}> is never closed`,
      severity: 'error',
      file,
      line: open.line,
      column: open.column,
    });
  }
  return { nodes: roots, diagnostics };
}
