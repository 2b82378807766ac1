export { type AdvisorySummary, type AffectedEntry, AdvisoryIndex, type IndexStats, normalizeRelease } from './advisory-index.ts';
export { fixedVersionFor, isAffectedByRange, type PreparedRange, prepareRange } from './affected-range.ts';
export { comparatorFor, compareVersions, supportedEcosystems, type VersionComparator } from './compare-versions.ts';
export { cvss3BaseScore, type SeverityLabel, severityLabelOf, summarizeSeverity } from './cvss-score.ts';
export { type Ecosystem, isDistributionEcosystem, normalizePackageName, parseEcosystem } from './ecosystem.ts';
export type { Inventory, InventoryItem, ListeningPort, OsRelease, RunningProcess } from './inventory-item.ts';
export { parseApkInstalled } from './inventory/apk-installed.ts';
export { parseDpkgStatus, type DpkgStatusOptions } from './inventory/dpkg-status.ts';
export { parseGoBuildInfo } from './inventory/go-build-info.ts';
export type { InventoryParse } from './inventory/inventory-parse.ts';
export { type JavaArchiveOptions, mavenCoordinatesFromPath, parseJavaArchive } from './inventory/java-archive.ts';
export { parseCargoLock, parseComposerLock, parseGemfileLock } from './inventory/lockfile-packages.ts';
export { makePurl } from './inventory/make-purl.ts';
export { parsePnpmLock, parseYarnLock } from './inventory/yarn-pnpm-lock.ts';
export { npmItem, parseNodePackageJson, parsePackageLock } from './inventory/npm-packages.ts';
export { osvEcosystemOf, parseOsRelease } from './inventory/os-release.ts';
export { parseProcNetTcp } from './inventory/proc-net-tcp.ts';
export { parsePythonMetadata } from './inventory/python-metadata.ts';
export { buildRpmHeader, parseRpmHeader } from './inventory/rpm-header.ts';
export { parseRpmQueryOutput, RPM_QUERYFORMAT, type RpmOptions, type RpmPackage, rpmItems } from './inventory/rpm-packages.ts';
export { type Finding, type MatchOptions, matchInventory } from './match-inventory.ts';
export { type RuleAffected, ruleAdvisoryRecord } from './rule-advisory.ts';
export { loadOsvBytes, loadOsvZip, type OsvLoadOutcome, parseOsvDocument } from './osv-loader.ts';
export {
  type OsvAffected,
  OsvAffectedSchema,
  type OsvEvent,
  type OsvRange,
  OsvRecordSchema,
  type OsvRecord,
  type OsvSeverity,
} from './osv-schema.ts';
export { compareApkVersions } from './version/apk-version.ts';
export { compareNumericComponentVersions } from './version/cran-version.ts';
export { compareDpkgVersions, parseDpkgVersion } from './version/dpkg-version.ts';
export { compareMavenVersions } from './version/maven-version.ts';
export { comparePackagistVersions } from './version/packagist-version.ts';
export { comparePep440Versions } from './version/pep440-version.ts';
export { compareRpmVersions, rpmvercmp } from './version/rpm-version.ts';
export { compareRubygemsVersions } from './version/rubygems-version.ts';
export { compareNugetVersions, comparePubVersions, compareSemverVersions } from './version/semver-version.ts';
