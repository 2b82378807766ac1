import { parseEcosystem } from './ecosystem.ts';
import { compareApkVersions } from './version/apk-version.ts';
import { compareNumericComponentVersions } from './version/cran-version.ts';
import { compareDpkgVersions } from './version/dpkg-version.ts';
import { compareMavenVersions } from './version/maven-version.ts';
import { comparePackagistVersions } from './version/packagist-version.ts';
import { comparePep440Versions } from './version/pep440-version.ts';
import { compareRpmVersions } from './version/rpm-version.ts';
import { compareRubygemsVersions } from './version/rubygems-version.ts';
import { compareNugetVersions, comparePubVersions, compareSemverVersions } from './version/semver-version.ts';

export type VersionComparator = (a: string, b: string) => number;

// Aliases follow osv-scalibr's semantic/parse.go: derived distributions share their parent's
// package manager, so they share its ordering.
const COMPARATORS: Record<string, VersionComparator> = {
  Debian: compareDpkgVersions,
  Ubuntu: compareDpkgVersions,
  'Red Hat': compareRpmVersions,
  'Rocky Linux': compareRpmVersions,
  AlmaLinux: compareRpmVersions,
  SUSE: compareRpmVersions,
  openSUSE: compareRpmVersions,
  Mageia: compareRpmVersions,
  openEuler: compareRpmVersions,
  Alpine: compareApkVersions,
  Wolfi: compareApkVersions,
  Chainguard: compareApkVersions,
  MinimOS: compareApkVersions,
  Alpaquita: compareApkVersions,
  'BellSoft Hardened Containers': compareApkVersions,
  npm: compareSemverVersions,
  'crates.io': compareSemverVersions,
  Go: compareSemverVersions,
  Hex: compareSemverVersions,
  Bitnami: compareSemverVersions,
  GHC: compareSemverVersions,
  Julia: compareSemverVersions,
  ConanCenter: compareSemverVersions,
  SwiftURL: compareSemverVersions,
  Bioconductor: compareSemverVersions,
  'Docker Hardened Images': compareSemverVersions,
  PyPI: comparePep440Versions,
  Maven: compareMavenVersions,
  RubyGems: compareRubygemsVersions,
  NuGet: compareNugetVersions,
  Packagist: comparePackagistVersions,
  Pub: comparePubVersions,
  CRAN: compareNumericComponentVersions,
  Hackage: compareNumericComponentVersions,
};

/** The ordering for an OSV ecosystem string (release suffix ignored), or undefined if unknown. */
export function comparatorFor(ecosystem: string): VersionComparator | undefined {
  return COMPARATORS[parseEcosystem(ecosystem).base];
}

export function supportedEcosystems(): string[] {
  return Object.keys(COMPARATORS);
}

/**
 * Orders two versions of one ecosystem: negative, zero or positive like a sort comparator.
 * Throws for an unknown ecosystem because guessing an order would produce wrong verdicts;
 * callers that can meet unknown ecosystems use `comparatorFor` and report instead.
 */
export function compareVersions(ecosystem: string, a: string, b: string): number {
  const cmp = comparatorFor(ecosystem);
  if (!cmp) throw new Error(`no version ordering for ecosystem "${ecosystem}"`);
  const d = cmp(a, b);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}
