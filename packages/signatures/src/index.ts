export { AnchorIndex } from './anchor-index.ts';
export { BytePattern, type PatternToken } from './byte-pattern.ts';
export {
  type BodySignature,
  type ClamavDatabase,
  type ClamOffset,
  type DatabaseFile,
  emptyClamavDatabase,
  type HashAlgorithm,
  type HashSignature,
  type LogicalSignature,
  parseClamavFile,
  CLAMAV_EXTENSIONS,
} from './clamav-database.ts';
export { parseClamavHex } from './clamav-hex.ts';
export { type CvdHeader, unpackCvd } from './cvd-container.ts';
export { type ExecutableInfo, parseExecutable } from './executable-info.ts';
export { CLAM_TARGET, detectFileKind, type FileKind, normalizeText } from './file-type.ts';
export { type LoadOptions, loadSignatures, type SignatureSources } from './load-signatures.ts';
export { type Detection, type DigestFn, type ScanOptions, type ScanResult, SignatureEngine } from './signature-engine.ts';
export { parseYara, type ParsedYara } from './yara-parser.ts';
export type { YaraExpr, YaraRule, YaraString } from './yara-rule.ts';
