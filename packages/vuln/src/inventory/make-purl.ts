import { PackageURL } from 'packageurl-js';

/**
 * Builds a purl; never throws, because one odd name on a host (a space, an empty version)
 * must not lose the rest of the inventory. The fallback is percent-encoded by hand.
 */
export function makePurl(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Record<string, string>,
): string {
  try {
    return new PackageURL(type, namespace || undefined, name, version || undefined, qualifiers, undefined).toString();
  } catch {
    const ns = namespace ? `${namespace.split('/').map(encodeURIComponent).join('/')}/` : '';
    return `pkg:${type}/${ns}${encodeURIComponent(name)}${version ? `@${encodeURIComponent(version)}` : ''}`;
  }
}
