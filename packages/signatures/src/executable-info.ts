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
  const sections: ExecutableInfo['sections'] = [];
  let at = opt + optSize;
  for (let s = 0; s < nsec && at + 40 <= buf.length; s++, at += 40) {
    sections.push({
      virtualSize: dv.getUint32(at + 8, true),
      rva: dv.getUint32(at + 12, true),
      size: dv.getUint32(at + 16, true),
      offset: dv.getUint32(at + 20, true),
    });
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
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + (is64 ? 56 : 32) > buf.length) break;
    const type = u32(p);
    if (type !== 1) continue;
    const offset = is64 ? word(p + 8) : u32(p + 4);
    const vaddr = is64 ? word(p + 16) : u32(p + 8);
    const filesz = is64 ? word(p + 32) : u32(p + 16);
    const memsz = is64 ? word(p + 40) : u32(p + 20);
    sections.push({ offset, size: filesz, rva: vaddr, virtualSize: memsz });
    if (entryPoint === undefined && entry >= vaddr && entry < vaddr + filesz) entryPoint = offset + (entry - vaddr);
  }
  return { entryPoint, sections };
}
