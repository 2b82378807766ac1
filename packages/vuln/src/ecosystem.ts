/**
 * OSV ecosystem strings carry a release after a colon (`Debian:12`, `Ubuntu:22.04:LTS`,
 * `Alpine:v3.18`, `Packagist:https://packages.drupal.org/8`); ordering and name rules depend
 * only on the part before the first colon.
 */
export interface Ecosystem {
  /** The ecosystem as OSV spells it, without release (`Debian`, `PyPI`, `Red Hat`). */
  base: string;
  /** Everything after the first colon, e.g. `12`, `22.04:LTS`, `v3.18`; '' when absent. */
  release: string;
}

export function parseEcosystem(ecosystem: string): Ecosystem {
  const colon = ecosystem.indexOf(':');
  if (colon < 0) return { base: ecosystem, release: '' };
  return { base: ecosystem.slice(0, colon), release: ecosystem.slice(colon + 1) };
}

/**
 * Normalises a package name so that inventory and advisory spellings meet in one index key.
 * PyPI follows PEP 503 (case and runs of `-_.` are insignificant); the distributions, NuGet
 * and Packagist are case-insensitive; the rest (npm, Maven, Go, crates.io) are kept verbatim
 * because their registries treat names as exact.
 */
export function normalizePackageName(ecosystemBase: string, name: string): string {
  switch (ecosystemBase) {
    case 'PyPI':
      return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
    case 'Debian':
    case 'Ubuntu':
    case 'Alpine':
    case 'NuGet':
    case 'Packagist':
    case 'Hex':
      return name.trim().toLowerCase();
    default:
      return name.trim();
  }
}

// Distributions whose OSV ecosystem suffix is a release: a package version means something
// only within its release. For language ecosystems the suffix names a repository instead
// (`Packagist:https://packages.drupal.org/8`) and says nothing about the host.
const DISTRIBUTIONS = new Set([
  'Debian',
  'Ubuntu',
  'Alpine',
  'Red Hat',
  'Rocky Linux',
  'AlmaLinux',
  'SUSE',
  'openSUSE',
  'Mageia',
  'openEuler',
  'Wolfi',
  'Chainguard',
  'MinimOS',
  'Alpaquita',
  'BellSoft Hardened Containers',
  'Photon OS',
  'Azure Linux',
]);

export function isDistributionEcosystem(ecosystemBase: string): boolean {
  return DISTRIBUTIONS.has(ecosystemBase);
}
