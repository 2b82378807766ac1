import type { Diagnostic } from '@palisade/diagnostics';
import { unzipSync } from 'fflate';
import type { InventoryItem } from '../inventory-item.ts';
import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

export interface JavaArchiveOptions {
  /** How deep to follow jars inside jars (war -> WEB-INF/lib/x.jar -> shaded jar). */
  maxDepth?: number;
  /** Nested archives larger than this (uncompressed) are skipped with a warning. */
  maxNestedBytes?: number;
  /**
   * Budget of uncompressed bytes for all nested archives of one top-level archive, so that a
   * zip bomb of many large nested jars cannot exhaust memory.
   */
  maxTotalBytes?: number;
}

interface Budget {
  left: number;
}

const POM_PROPERTIES = /(^|\/)META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
const MANIFEST = /^META-INF\/MANIFEST\.MF$/i;
const NESTED = /\.(jar|war|ear|rar|sar|hpi|jpi|par)$/i;

const decoder = new TextDecoder();

function parseProperties(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const i = line.search(/[=:]/);
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** Main section of a manifest; continuation lines begin with one space (JAR spec). */
function parseManifest(text: string): Map<string, string> {
  const m = new Map<string, string>();
  let last = '';
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (raw === '') break;
    if (raw.startsWith(' ') && last) {
      m.set(last, m.get(last) + raw.slice(1));
      continue;
    }
    const i = raw.indexOf(':');
    if (i <= 0) continue;
    last = raw.slice(0, i).trim();
    m.set(last, raw.slice(i + 1).trim());
  }
  return m;
}

function mavenItem(group: string, artifact: string, version: string, location: string): InventoryItem {
  return { ecosystem: 'Maven', name: `${group}:${artifact}`, version, purl: makePurl('maven', group, artifact, version), location };
}

/**
 * Coordinates from a local repository layout, for archives without pom.properties (many
 * Gradle-built jars): Maven `<repo>/repository/g/r/o/u/p/artifact/version/artifact-version.jar`
 * and Gradle `files-2.1/group/artifact/version/<sha1>/file.jar`.
 */
export function mavenCoordinatesFromPath(location: string): { group: string; artifact: string; version: string } | undefined {
  if (location.includes('!')) return undefined;
  const m2 = /\/repository\/(.+)\/([^/]+)\/([^/]+)\/([^/]+)\.[jwe]ar$/.exec(location);
  if (m2 && m2[4]!.startsWith(`${m2[2]}-${m2[3]}`)) return { group: m2[1]!.replaceAll('/', '.'), artifact: m2[2]!, version: m2[3]! };
  const gradle = /\/files-2\.1\/([^/]+)\/([^/]+)\/([^/]+)\/[0-9a-f]{16,}\/[^/]+\.[jwe]ar$/.exec(location);
  if (gradle) return { group: gradle[1]!, artifact: gradle[2]!, version: gradle[3]! };
  return undefined;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1).replace(/^.*!/, '');
}

/**
 * Identifies Maven artifacts inside a jar/war/ear, following nested archives. Identity comes
 * from `META-INF/maven/<group>/<artifact>/pom.properties` (fat jars carry one per shaded
 * dependency); an archive without one falls back to a Maven/Gradle repository path, then to
 * its manifest, which identifies the archive only when it names a vendor id. A corrupt archive, nested or not, is reported and
 * skipped; its siblings are still read.
 */
export function parseJavaArchive(bytes: Uint8Array, location: string, opts: JavaArchiveOptions = {}): InventoryParse {
  return parseArchive(bytes, location, opts, 0, { left: opts.maxTotalBytes ?? 1024 * 1024 * 1024 });
}

function parseArchive(bytes: Uint8Array, location: string, opts: JavaArchiveOptions, depth: number, budget: Budget): InventoryParse {
  const maxDepth = opts.maxDepth ?? 4;
  const maxNested = opts.maxNestedBytes ?? 256 * 1024 * 1024;
  const items: InventoryItem[] = [];
  const diagnostics: Diagnostic[] = [];
  const tooBig: string[] = [];
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (POM_PROPERTIES.test(f.name) || MANIFEST.test(f.name)) return true;
        if (!NESTED.test(f.name) || depth >= maxDepth) return false;
        if (f.originalSize > maxNested || f.originalSize > budget.left) {
          tooBig.push(f.name);
          return false;
        }
        budget.left -= f.originalSize;
        return true;
      },
    });
  } catch (err) {
    diagnostics.push({ code: 'VULN_JAR_CORRUPT', severity: 'error', message: `cannot read archive: ${(err as Error).message}`, file: location });
    return { items, diagnostics };
  }
  for (const name of tooBig) {
    diagnostics.push({
      code: 'VULN_JAR_TOO_LARGE',
      severity: 'warning',
      message: `nested archive ${name} exceeds the size limit (${maxNested} bytes each, ${opts.maxTotalBytes ?? 1024 ** 3} in total); not inspected`,
      file: location,
    });
  }
  let identified = false;
  for (const [name, data] of Object.entries(entries)) {
    if (!POM_PROPERTIES.test(name)) continue;
    const props = parseProperties(decoder.decode(data));
    const parts = name.split('/');
    const group = props.get('groupId') ?? parts[parts.length - 3]!;
    const artifact = props.get('artifactId') ?? parts[parts.length - 2]!;
    const version = props.get('version');
    if (!version) {
      diagnostics.push({ code: 'VULN_JAR_POM_PROPERTIES', severity: 'warning', message: `${name} has no version`, file: location });
      continue;
    }
    items.push(mavenItem(group, artifact, version, location));
    identified = true;
  }
  const fromPath = identified ? undefined : mavenCoordinatesFromPath(location);
  if (fromPath) {
    items.push(mavenItem(fromPath.group, fromPath.artifact, fromPath.version, location));
    identified = true;
  }
  const manifestEntry = Object.keys(entries).find((n) => MANIFEST.test(n));
  if (!identified && manifestEntry) {
    const mf = parseManifest(decoder.decode(entries[manifestEntry]!));
    const version = mf.get('Implementation-Version') ?? mf.get('Bundle-Version');
    const group = mf.get('Implementation-Vendor-Id');
    const fileArtifact = baseName(location).replace(NESTED, '').replace(/-\d[\w.-]*$/, '');
    if (version && group && fileArtifact) {
      items.push(mavenItem(group, fileArtifact, version, location));
    } else {
      diagnostics.push({
        code: 'VULN_JAR_UNIDENTIFIED',
        severity: 'warning',
        message: 'no pom.properties and the manifest names no Implementation-Vendor-Id/Version; archive not identified',
        file: location,
      });
    }
  }
  for (const [name, data] of Object.entries(entries)) {
    if (!NESTED.test(name)) continue;
    const nested = parseArchive(data, `${location}!${name}`, opts, depth + 1, budget);
    for (const i of nested.items) items.push(i);
    for (const d of nested.diagnostics) diagnostics.push(d);
  }
  return { items, diagnostics };
}
