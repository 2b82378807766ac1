/** Entry point and sections of a PE or ELF file, as ClamAV offsets (`EP+n`, `Sx+n`, `SL+n`, `SEx`) need them. */
export interface ExecutableInfo {
  /** File offset of the entry point, when it maps into the file. */
  entryPoint?: number;
  sections: { offset: number; size: number; rva: number; virtualSize: number }[];
}

export function parseExecutable(buf: Uint8Array, kind: 'pe' | 'elf'): ExecutableInfo | undefined {
  try {
    return kind === 'pe' ? parsePe(buf) : parseElf(buf);
  } catch {
    return undefined;
  }
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function parsePe(buf: Uint8Array): ExecutableInfo | undefined {
  if (buf.length < 0x40) return undefined;
  const dv = view(buf);
  const pe = dv.getUint32(0x3c, true);
  if (pe + 24 > buf.length || dv.getUint32(pe, true) !== 0x00004550) return undefined;
  const nsec = dv.getUint16(pe + 6, true);
  const optSize = dv.getUint16(pe + 20, true);
  const opt = pe + 24;
  const epRva = opt + 20 <= buf.length ? dv.getUint32(opt + 16, true) : 0;
  const fileAlign = opt + 40 <= buf.length ? dv.getUint32(opt + 36, true) : 0;
  // The loader rounds raw pointers down (and sizes up) to FileAlignment; ClamAV does the same
  // when the alignment is sane, so section offsets and section hashes agree with it.
  const align = fileAlign !== 0 && fileAlign % 0x200 === 0 ? fileAlign : 0;
  const sections: ExecutableInfo['sections'] = [];
  let at = opt + optSize;
  for (let s = 0; s < nsec && at + 40 <= buf.length; s++, at += 40) {
    let offset = dv.getUint32(at + 20, true);
    let size = dv.getUint32(at + 16, true);
    if (align) {
      offset = Math.floor(offset / align) * align;
      size = Math.ceil(size / align) * align;
    }
    if (offset + size > buf.length) size = Math.max(0, buf.length - offset);
    sections.push({ virtualSize: dv.getUint32(at + 8, true), rva: dv.getUint32(at + 12, true), size, offset });
  }
  let entryPoint: number | undefined;
  for (const s of sections) {
    const vsize = Math.max(s.virtualSize, s.size);
    if (epRva >= s.rva && epRva < s.rva + vsize) {
      entryPoint = s.offset + (epRva - s.rva);
      break;
    }
  }
  if (entryPoint === undefined && sections.length === 0) entryPoint = epRva;
  return { entryPoint, sections };
}

function parseElf(buf: Uint8Array): ExecutableInfo | undefined {
  if (buf.length < 0x34) return undefined;
  const dv = view(buf);
  const is64 = buf[4] === 2;
  const le = buf[5] !== 2;
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  const word = (o: number) => (is64 ? Number(dv.getBigUint64(o, le)) : u32(o));
  const entry = word(0x18);
  const phoff = is64 ? word(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const sections: ExecutableInfo['sections'] = [];
  let entryPoint: number | undefined;
  // ClamAV's ELF "sections" are the section headers (index 0 is the empty SHN_UNDEF entry);
  // the entry point is mapped to a file offset through the loadable segments.
  const shoff = is64 ? word(0x28) : u32(0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  for (let i = 0; i < shnum; i++) {
    const p = shoff + i * shentsize;
    if (p + (is64 ? 64 : 40) > buf.length) break;
    const addr = is64 ? word(p + 16) : u32(p + 12);
    const offset = is64 ? word(p + 24) : u32(p + 16);
    const size = is64 ? word(p + 32) : u32(p + 20);
    sections.push({ offset, size, rva: addr, virtualSize: size });
  }
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + (is64 ? 56 : 32) > buf.length) break;
    const type = u32(p);
    if (type !== 1) continue;
    const offset = is64 ? word(p + 8) : u32(p + 4);
    const vaddr = is64 ? word(p + 16) : u32(p + 8);
    const filesz = is64 ? word(p + 32) : u32(p + 16);
    if (entryPoint === undefined && entry >= vaddr && entry < vaddr + filesz) entryPoint = offset + (entry - vaddr);
  }
  return { entryPoint, sections };
}
