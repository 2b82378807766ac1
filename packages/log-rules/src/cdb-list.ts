/**
 * A CDB list as Wazuh compiles it from its `key:value` source: one entry per line, the key may be
 * quoted when it contains a colon, the value is optional.
 */
export class CdbList {
  private readonly entries = new Map<string, string>();

  constructor(
    readonly name: string,
    source: string,
  ) {
    for (const raw of source.split('\n')) {
      const line = raw.replace(/\r$/, '');
      if (!line.trim()) continue;
      let key: string;
      let value: string;
      if (line.startsWith('"')) {
        const end = line.indexOf('"', 1);
        key = line.slice(1, end < 0 ? line.length : end);
        const rest = end < 0 ? '' : line.slice(end + 1);
        value = rest.startsWith(':') ? rest.slice(1) : '';
      } else {
        const colon = line.indexOf(':');
        key = colon < 0 ? line : line.slice(0, colon);
        value = colon < 0 ? '' : line.slice(colon + 1);
      }
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      if (!this.entries.has(key)) this.entries.set(key, value);
    }
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  /**
   * Address lookups accept keys naming whole networks by their leading octets (`10.1.` style
   * keys are written `10.1`), so try the address, then each shorter octet prefix.
   */
  getAddress(ip: string): string | undefined {
    let k = ip;
    for (;;) {
      const v = this.entries.get(k);
      if (v !== undefined) return v;
      const dot = k.lastIndexOf('.');
      if (dot <= 0) return undefined;
      k = k.slice(0, dot);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
