import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

/**
 * Parses a core-metadata file (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`): RFC 822 headers
 * up to the first blank line, after which the long description starts and may contain
 * anything, including lines that look like headers.
 */
export function parsePythonMetadata(text: string, file: string): InventoryParse {
  let name: string | undefined;
  let version: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') break;
    const m = /^(Name|Version):\s*(.*)$/i.exec(line);
    if (!m) continue;
    if (m[1]!.toLowerCase() === 'name') name ??= m[2]!.trim();
    else version ??= m[2]!.trim();
  }
  if (!name || !version) {
    return {
      items: [],
      diagnostics: [{ code: 'VULN_INVENTORY_PYTHON_METADATA', severity: 'warning', message: 'no Name or Version header', file }],
    };
  }
  return { items: [{ ecosystem: 'PyPI', name, version, purl: makePurl('pypi', undefined, name, version), location: file }], diagnostics: [] };
}
