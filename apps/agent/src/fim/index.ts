export { BaselineStore, type BaselineMeta, MAX_PENDING, type PendingChange } from './baseline-store.ts';
export { ContentStore, type ContentStoreStats, type StoredContent } from './content-store.ts';
export { type FimScanOptions, type FimScanResult, runFimScan, runFimTargetScan } from './fim-scan.ts';
export { type FileScanOptions, type FileScanResult, scanFileTree } from './file-tree-scanner.ts';
export { type HashJob, HashPool, type HashResult } from './hash-pool.ts';
export type { ScanIssue } from './scan-issue.ts';
export { type ScanLimits, ScanThrottle } from './scan-throttle.ts';
export { collectSystemEntities, type SystemCollectResult } from './system-collector.ts';
export { type FileXattrs, XattrReader } from './xattr-reader.ts';
