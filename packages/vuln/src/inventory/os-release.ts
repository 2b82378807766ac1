import type { OsRelease } from '../inventory-item.ts';

function unquote(v: string): string {
  const t = v.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) {
    return t.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
  }
  return t;
}

/**
 * The OSV ecosystem of a distribution's packages. OSV spells releases its own way: Debian by
 * major version (`Debian:12`), Ubuntu with `:LTS` on LTS releases, Alpine as `v3.18`.
 */
export function osvEcosystemOf(id: string, versionId: string, version: string): string | undefined {
  const major = versionId.split('.')[0] ?? '';
  switch (id) {
    case 'debian':
      return versionId ? `Debian:${major}` : 'Debian';
    case 'ubuntu':
      return versionId ? `Ubuntu:${versionId}${/LTS/.test(version) ? ':LTS' : ''}` : 'Ubuntu';
    case 'alpine': {
      const mm = versionId.split('.').slice(0, 2).join('.');
      return versionId ? `Alpine:v${mm}` : 'Alpine';
    }
    case 'rhel':
      return versionId ? `Red Hat:${major}` : 'Red Hat';
    case 'centos':
      return 'Red Hat';
    case 'rocky':
      return versionId ? `Rocky Linux:${major}` : 'Rocky Linux';
    case 'almalinux':
      return versionId ? `AlmaLinux:${major}` : 'AlmaLinux';
    case 'opensuse-leap':
    case 'opensuse-tumbleweed':
      return 'openSUSE';
    case 'sles':
      return 'SUSE';
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    default:
      return undefined;
  }
}

/** Parses `/etc/os-release` (os-release(5): shell-style KEY=value lines). */
export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    kv.set(line.slice(0, eq), unquote(line.slice(eq + 1)));
  }
  const id = (kv.get('ID') ?? 'linux').toLowerCase();
  const versionId = kv.get('VERSION_ID') ?? '';
  const release: OsRelease = {
    id,
    versionId,
    idLike: (kv.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
  };
  if (kv.has('VERSION_CODENAME')) release.versionCodename = kv.get('VERSION_CODENAME');
  if (kv.has('PRETTY_NAME')) release.prettyName = kv.get('PRETTY_NAME');
  const eco = osvEcosystemOf(id, versionId, kv.get('VERSION') ?? '');
  if (eco) release.ecosystem = eco;
  return release;
}
