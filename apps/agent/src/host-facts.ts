import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces, release } from 'node:os';
import type { HostFacts } from '@palisade/protocol';
import { AGENT_VERSION } from './agent-version.ts';

/** `/etc/os-release` is KEY=value with optional shell quoting; only ID and VERSION_ID matter here. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    }
    out[line.slice(0, eq)] = value;
  }
  return out;
}

/** `linux/<id> <version>` (e.g. `linux/debian 12`), the form policies and smart folders match on. */
export function platformString(osRelease: string | undefined, nodePlatform: string = process.platform): string {
  if (nodePlatform !== 'linux') return `${nodePlatform}/${release()}`;
  if (osRelease === undefined) return 'linux/unknown';
  const fields = parseOsRelease(osRelease);
  const id = fields.ID ?? 'unknown';
  return (fields.VERSION_ID ? `linux/${id} ${fields.VERSION_ID}` : `linux/${id}`).slice(0, 100);
}

function readOsRelease(): string | undefined {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      // try the next location: systemd documents both
    }
  }
  return undefined;
}

/** Non-loopback addresses; IPv6 link-local ones are left out because they are the same on every host. */
export function hostIps(): string[] {
  const ips: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const addr of list ?? []) {
      if (addr.internal) continue;
      if (addr.family === 'IPv6' && addr.address.toLowerCase().startsWith('fe80:')) continue;
      if (!ips.includes(addr.address)) ips.push(addr.address);
    }
  }
  return ips.slice(0, 64);
}

export function collectHostFacts(): HostFacts {
  return {
    hostname: hostname().slice(0, 255),
    platform: platformString(readOsRelease()),
    ips: hostIps(),
    agentVersion: AGENT_VERSION,
  };
}
