/**
 * File type detection as far as ClamAV target types need it. ClamAV decides by magic bytes
 * first and, without a magic, by looking at the first 1024 bytes for text; text files are
 * additionally scanned in normalized form (lower case, whitespace runs collapsed).
 */
export type FileKind =
  | 'pe'
  | 'elf'
  | 'macho'
  | 'ole2'
  | 'pdf'
  | 'zip'
  | 'gzip'
  | 'bzip2'
  | 'tar'
  | '7z'
  | 'rar'
  | 'cab'
  | 'graphics'
  | 'java'
  | 'swf'
  | 'text'
  | 'text-utf16'
  | 'binary';

/** ClamAV target type numbers (`.ndb` column 2, `.ldb` `Target:`). */
export const CLAM_TARGET = {
  any: 0,
  pe: 1,
  ole2: 2,
  html: 3,
  mail: 4,
  graphics: 5,
  elf: 6,
  text: 7,
  macho: 9,
  pdf: 10,
  swf: 11,
  java: 12,
} as const;

const TEXT_SAMPLE = 1024;

/** Bytes file(1) (and ClamAV's textdet) consider impossible in text. */
const NOT_TEXT = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) NOT_TEXT[c] = c >= 7 && c <= 13 ? 0 : c === 0x1b ? 0 : 1;
NOT_TEXT[0x7f] = 1;

function startsWith(buf: Uint8Array, bytes: number[], at = 0): boolean {
  if (buf.length < at + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

export function detectFileKind(buf: Uint8Array): FileKind {
  if (startsWith(buf, [0x4d, 0x5a])) return 'pe';
  if (startsWith(buf, [0x7f, 0x45, 0x4c, 0x46])) return 'elf';
  if (
    startsWith(buf, [0xfe, 0xed, 0xfa, 0xce]) ||
    startsWith(buf, [0xfe, 0xed, 0xfa, 0xcf]) ||
    startsWith(buf, [0xce, 0xfa, 0xed, 0xfe]) ||
    startsWith(buf, [0xcf, 0xfa, 0xed, 0xfe])
  ) {
    return 'macho';
  }
  // 0xCAFEBABE is both a universal Mach-O and a Java class; the next word tells them apart.
  if (startsWith(buf, [0xca, 0xfe, 0xba, 0xbe]) && buf.length >= 8) {
    const n = (buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!;
    return n > 0 && n < 30 ? 'macho' : 'java';
  }
  if (startsWith(buf, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return 'ole2';
  if (startsWith(buf, ascii('%PDF-'))) return 'pdf';
  if (startsWith(buf, [0x50, 0x4b, 0x03, 0x04]) || startsWith(buf, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  if (startsWith(buf, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(buf, ascii('BZh'))) return 'bzip2';
  if (startsWith(buf, ascii('ustar'), 257)) return 'tar';
  if (startsWith(buf, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return '7z';
  if (startsWith(buf, ascii('Rar!'))) return 'rar';
  if (startsWith(buf, ascii('MSCF'))) return 'cab';
  if (startsWith(buf, ascii('FWS')) || startsWith(buf, ascii('CWS'))) return 'swf';
  if (
    startsWith(buf, ascii('GIF8')) ||
    startsWith(buf, [0x89, 0x50, 0x4e, 0x47]) ||
    startsWith(buf, [0xff, 0xd8, 0xff])
  ) {
    return 'graphics';
  }
  return textKind(buf.subarray(0, TEXT_SAMPLE));
}

function textKind(s: Uint8Array): FileKind {
  if (s.length === 0) return 'binary';
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (NOT_TEXT[s[i]!]) {
      ascii = false;
      break;
    }
  }
  if (ascii || isUtf8(s)) return 'text';
  if (isUtf16(s)) return 'text-utf16';
  return 'binary';
}

function isUtf8(s: Uint8Array): boolean {
  let gotOne = false;
  for (let i = 0; i < s.length; i++) {
    const b = s[i]!;
    if ((b & 0x80) === 0) {
      if (b < 0x20 ? NOT_TEXT[b] : b === 0x7f) return false;
      continue;
    }
    if ((b & 0x40) === 0) return false;
    let following: number;
    if ((b & 0x20) === 0) following = 1;
    else if ((b & 0x10) === 0) following = 2;
    else if ((b & 0x08) === 0) following = 3;
    else if ((b & 0x04) === 0) following = 4;
    else if ((b & 0x02) === 0) following = 5;
    else return false;
    for (let j = 0; j < following; j++) {
      if (++i >= s.length) return gotOne;
      if ((s[i]! & 0x80) === 0 || (s[i]! & 0x40) !== 0) return false;
    }
    gotOne = true;
  }
  return gotOne;
}

function isUtf16(s: Uint8Array): boolean {
  if (s.length < 2) return false;
  let be = true;
  let noBom = false;
  if (s[0] === 0xff && s[1] === 0xfe) be = false;
  else if (!(s[0] === 0xfe && s[1] === 0xff)) noBom = true;
  let bad = 0;
  for (let i = 2; i + 1 < s.length; i += 2) {
    const c = be ? s[i + 1]! + 256 * s[i]! : s[i]! + 256 * s[i + 1]!;
    if (c === 0xfffe) return false;
    if (c < 128 && (c < 0x20 ? NOT_TEXT[c] : c === 0x7f)) {
      if (noBom) return false;
      bad++;
    }
  }
  return !(!noBom && bad >= s.length / 2);
}

/** The target types whose signatures apply to a file of this kind (besides 0). */
export function clamTargetsOf(kind: FileKind): number[] {
  switch (kind) {
    case 'pe':
      return [CLAM_TARGET.pe];
    case 'elf':
      return [CLAM_TARGET.elf];
    case 'macho':
      return [CLAM_TARGET.macho];
    case 'ole2':
      return [CLAM_TARGET.ole2];
    case 'pdf':
      return [CLAM_TARGET.pdf];
    case 'graphics':
      return [CLAM_TARGET.graphics];
    case 'java':
      return [CLAM_TARGET.java];
    case 'swf':
      return [CLAM_TARGET.swf];
    default:
      return [];
  }
}

/** Per byte: 0 drop, 1 whitespace, otherwise the byte to write (lower-cased). */
const NORMALIZE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (c === 0x20 || (c >= 9 && c <= 13)) NORMALIZE[c] = 1;
  else if (c < 0x20 || c >= 0x80) NORMALIZE[c] = 0;
  else NORMALIZE[c] = c >= 65 && c <= 90 ? c + 32 : c;
}

/** ClamAV's text normalization: lower case, whitespace runs to one space, controls and bytes >= 0x80 dropped. */
export function normalizeText(buf: Uint8Array): Uint8Array {
  const out = new Uint8Array(buf.length);
  const n = buf.length;
  let o = 0;
  let space = 0;
  for (let i = 0; i < n; i++) {
    const a = NORMALIZE[buf[i]!]!;
    if (a > 1) {
      out[o++] = a;
      space = 0;
    } else if (a === 1 && space === 0) {
      out[o++] = 0x20;
      space = 1;
    }
  }
  return out.subarray(0, o);
}
