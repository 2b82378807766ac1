export { type ArchiveLimits, type ArchiveProblem, DEFAULT_ARCHIVE_LIMITS, unpackArchive, archiveFormatOf, UnpackBudget } from './archive-reader.ts';
export { type FileScanOptions, type FileScanResult, nodeDigest, type ScanDetection, scanBytes, scanFile } from './file-scanner.ts';
export { loadSignatureSources } from './signature-sources.ts';
export { type MalwareScanOptions, type MalwareScanSummary, scanTrees } from './malware-scan.ts';
export { ScanPool } from './scan-pool.ts';
export { type WalkEntry, type WalkOptions, walkTree } from './tree-walker.ts';
