import type { ListeningPort } from '../inventory-item.ts';

function ipv4(hex: string): string {
  // /proc prints the address as a host-order (little-endian on x86/arm) 32-bit word.
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function ipv6(hex: string): string {
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = [word.slice(6, 8), word.slice(4, 6), word.slice(2, 4), word.slice(0, 2)];
    groups.push(bytes[0]! + bytes[1]!, bytes[2]! + bytes[3]!);
  }
  const full = groups.map((g) => Number.parseInt(g, 16).toString(16));
  // Compress the longest run of zero groups, as inet_ntop does.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (full[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && full[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return full.join(':');
  return `${full.slice(0, best).join(':')}::${full.slice(best + bestLen).join(':')}`;
}

/**
 * Listening sockets from `/proc/net/tcp`, `/proc/net/tcp6` (state 0A = LISTEN) or
 * `/proc/net/udp{,6}` (state 07 = unconnected, i.e. bound and receiving).
 */
export function parseProcNetTcp(text: string, protocol: ListeningPort['protocol']): ListeningPort[] {
  const ports: ListeningPort[] = [];
  const wantState = protocol.startsWith('udp') ? '07' : '0A';
  const seen = new Set<string>();
  for (const raw of text.split('\n').slice(1)) {
    const f = raw.trim().split(/\s+/);
    if (f.length < 10) continue;
    if (f[3] !== wantState) continue;
    const [addrHex, portHex] = f[1]!.split(':');
    if (!addrHex || !portHex) continue;
    const address = addrHex.length === 32 ? ipv6(addrHex) : ipv4(addrHex);
    const port = Number.parseInt(portHex, 16);
    const key = `${address}:${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ports.push({ protocol, address, port, uid: Number(f[7]), inode: Number(f[9]) });
  }
  return ports;
}
