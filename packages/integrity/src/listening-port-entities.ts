import type { Diagnostic } from '@palisade/diagnostics';
import type { ParsedEntities } from './account-entities.ts';
import type { Entity } from './entity.ts';

const TCP_LISTEN = '0A';
const UDP_UNCONNECTED = '07';

/** /proc/net stores each 32-bit word of an address in host (little-endian) order. */
function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${(n >>> 24) & 255}`;
}

function ipv6(hex: string): string {
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = [6, 4, 2, 0].map((o) => Number.parseInt(word.slice(o, o + 2), 16));
    groups.push((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!);
  }
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} text: TCP in LISTEN state, UDP sockets
 * not connected to a peer. Several sockets on one address (SO_REUSEPORT) are one entity.
 */
export function listeningPortEntities(text: string, proto: 'tcp' | 'udp', rule: string, file = `/proc/net/${proto}`): ParsedEntities {
  const diagnostics: Diagnostic[] = [];
  const entities = new Map<string, Entity>();
  text.split('\n').forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (i === 0 || f.length < 10 || f[0] === '') return;
    const [local, remote, state, , , , uid] = f.slice(1);
    const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(local ?? '');
    if (!m || !remote || !state) {
      diagnostics.push({
        code: 'FIM_SOURCE_MALFORMED',
        message: 'malformed socket line skipped',
        severity: 'warning',
        file,
        line: i + 1,
        column: 1,
      });
      return;
    }
    const listening = proto === 'tcp' ? state === TCP_LISTEN : state === UDP_UNCONNECTED && /^0+:0000$/.test(remote);
    if (!listening) return;
    const v6 = m[1]!.length === 32;
    const address = v6 ? ipv6(m[1]!.toUpperCase()) : ipv4(m[1]!);
    const port = Number.parseInt(m[2]!, 16);
    const key = `${proto}/${v6 ? `[${address}]` : address}:${port}`;
    if (!entities.has(key)) entities.set(key, { kind: 'port', key, rule, attrs: { proto, address, port, uid: Number(uid) } });
  });
  return { entities: [...entities.values()], diagnostics };
}
