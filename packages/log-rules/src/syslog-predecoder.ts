/** What the syslog pre-decoder finds in front of a message. */
export interface SyslogHeader {
  /** Offset in the line where the message proper (what decoders see) starts. */
  logStart: number;
  timestamp?: string;
  hostname?: string;
  programName?: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
/** analysisd's hostname/program-name character set. */
const isNameChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_.()\-/@]/.test(c);

/**
 * Recognises the timestamp/hostname/program-name header the way analysisd's pre-decoder does
 * (fixed-position checks of the known timestamp layouts, then `host prog[pid]: `), so that
 * decoders see the same `log` and program name as Wazuh would.
 */
export function preDecodeSyslog(line: string): SyslogHeader {
  const p = line;
  const len = p.length + 1;
  let at = -1;
  if (len > 17 && p[3] === ' ' && p[6] === ' ' && p[9] === ':' && p[12] === ':' && p[15] === ' ') at = 16;
  else if (len > 24 && p[4] === '-' && p[7] === '-' && p[10] === ' ' && p[13] === ':' && p[16] === ':' && p[19] === ',') at = 23;
  else if (len > 33 && p[4] === '-' && p[7] === '-' && p[10] === 'T' && p[13] === ':' && p[16] === ':') {
    if (p[22] === ':' && p[25] === ' ') at = 26;
    else if (p[19] === '.' && p[29] === ':') at = 33;
    else if (p[19] === '.') at = 32;
  } else if (len > 21 && isDigit(p[0]) && p[4] === ' ' && p[8] === ' ' && p[11] === ' ' && p[14] === ':' && p[17] === ':' && p[20] === ' ')
    at = 21;
  // macOS unified log: 2020-03-23 06:47:42.801612-0700  host prog[pid]: msg
  if (at < 0 && len > 33 && p[4] === '-' && p[7] === '-' && p[10] === ' ' && p[13] === ':' && p[16] === ':' && p[19] === '.') {
    const m = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+[+-]\d{4} /.exec(p);
    if (m) at = m[0].length;
  }
  if (at >= 0) {
    const header: SyslogHeader = { logStart: at, timestamp: p.slice(0, at - 1) };
    let i = at;
    if (p[i] === ' ') i++;
    header.logStart = i;
    const hostStart = i;
    while (isNameChar(p[i])) i++;
    if (p[i] === ':' && p[i + 1] === ' ') {
      // Solaris-style: no hostname, the program name comes right after the date.
      header.programName = p.slice(hostStart, i);
      header.logStart = i + 2;
      return stripSolarisId(p, header);
    }
    if (p[i] !== ' ') return header;
    header.hostname = p.slice(hostStart, i);
    i++;
    header.logStart = i;
    const progStart = i;
    while (isNameChar(p[i])) i++;
    const prog = p.slice(progStart, i);
    if (p[i] === ':') {
      i++;
      if (p[i] === ' ') i++;
      header.programName = prog;
      header.logStart = i;
    } else if (p[i] === '[' && isDigit(p[i + 1])) {
      let j = i + 2;
      while (isDigit(p[j])) j++;
      if (p[j] === ']' && p[j + 1] === ':') {
        j += 2;
        if (p[j] === ' ') j++;
        header.programName = prog;
        header.logStart = j;
      } else if (p[j] === ']' && p[j + 1] === ' ') {
        header.programName = prog;
        header.logStart = j + 2;
      } else return header;
    } else if (p[i] === '|' && p[i + 1] !== undefined && /[a-z]/.test(p[i + 1]!)) {
      // AIX: host auth|security:info prog: msg
      let j = i + 2;
      while (isAlnum(p[j])) j++;
      if (p[j] !== ':') return header;
      j++;
      while (isAlnum(p[j])) j++;
      if (p[j] !== ' ') return header;
      j++;
      const ps = j;
      while (isNameChar(p[j])) j++;
      if (p[j] === ':' && p[j + 1] === ' ') {
        header.programName = p.slice(ps, j);
        header.logStart = j + 2;
      } else if (p[j] === '[' && isDigit(p[j + 1])) {
        const name = p.slice(ps, j);
        j += 2;
        while (isDigit(p[j])) j++;
        if (p[j] === ']' && p[j + 1] === ':' && p[j + 2] === ' ') {
          header.programName = name;
          header.logStart = j + 3;
        } else return header;
      } else return header;
    } else return header;
    return stripSolarisId(p, header);
  }
  // xferlog: Mon Apr 17 18:27:14 2006 1 64.160.42.130
  if (
    len > 28 &&
    p[3] === ' ' &&
    p[7] === ' ' &&
    p[10] === ' ' &&
    p[13] === ':' &&
    p[16] === ':' &&
    p[19] === ' ' &&
    p[24] === ' ' &&
    p[26] === ' '
  )
    return { logStart: 25, timestamp: p.slice(0, 24) };
  // snort: 01/28-09:13:16.240702  [**]
  if (len > 24 && p[2] === '/' && p[5] === '-' && p[8] === ':' && p[11] === ':' && p[14] === '.' && p[21] === ' ')
    return { logStart: 23, timestamp: p.slice(0, 21) };
  // suricata: 01/28/1979-09:13:16.240702  [**]
  if (len > 26 && p[2] === '/' && p[5] === '/' && p[10] === '-' && p[13] === ':' && p[16] === ':' && p[19] === '.' && p[26] === ' ')
    return { logStart: 28, timestamp: p.slice(0, 26) };
  // apache: [Fri Feb 11 18:06:35 2004] [warn]
  if (
    len > 27 &&
    p[0] === '[' &&
    p[4] === ' ' &&
    p[8] === ' ' &&
    p[11] === ' ' &&
    p[14] === ':' &&
    p[17] === ':' &&
    p[20] === ' ' &&
    p[25] === ']'
  )
    return { logStart: 27, timestamp: p.slice(1, 25) };
  // OS X ASL: [Time 2006.12.28 15:53:55 UTC] [Facility auth] [Sender sshd] ... [Message ...]
  if (len > 26 && p[0] === '[' && p[1] === 'T' && p[5] === ' ' && p[10] === '.' && p[13] === '.' && p[16] === ' ' && p[19] === ':') {
    const h: SyslogHeader = { logStart: 25, timestamp: p.slice(6, 24) };
    let doneMessage = false;
    let k = p.indexOf('[', 25);
    let logEnd: number | undefined;
    while (k >= 0) {
      k++;
      if (p.startsWith('Sender ', k) && h.programName === undefined) {
        const e = p.indexOf(']', k + 7);
        if (e < 0) break;
        h.programName = p.slice(k + 7, e);
        k = e + 1;
      } else if (p.startsWith('Message ', k) && !doneMessage) {
        doneMessage = true;
        h.logStart = k + 8;
        const e = p.indexOf(']', k + 8);
        if (e < 0) break;
        logEnd = e;
        k = e + 1;
      } else if (p.startsWith('Host ', k)) {
        const e = p.indexOf(']', k + 5);
        if (e >= 0) h.hostname = p.slice(k + 5, e);
        break;
      }
      k = p.indexOf('[', k);
    }
    return logEnd !== undefined ? ({ ...h, logEnd } as SyslogHeader) : h;
  }
  // squid: 1140804070.368  11623
  if (
    len > 32 &&
    p[0] === '1' &&
    isDigit(p[1]) &&
    isDigit(p[2]) &&
    isDigit(p[3]) &&
    p[10] === '.' &&
    isDigit(p[13]) &&
    p[14] === ' ' &&
    (p[21] === ' ' || p[22] === ' ')
  ) {
    let s = 14;
    while (p[s] === ' ') s++;
    return { logStart: s, timestamp: p.slice(0, 14) };
  }
  return { logStart: 0 };
}

function stripSolarisId(p: string, h: SyslogHeader): SyslogHeader {
  if (p.startsWith('[ID ', h.logStart)) {
    const e = p.indexOf(']', h.logStart + 4);
    if (e >= 0) h.logStart = e + 2;
  }
  return h;
}
