/** `host:port` or `[v6]:port` as the forwarder settings hold them. */
export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):([0-9]{1,5})$/.exec(address);
  if (!m) throw new Error(`address ${JSON.stringify(address)} is not HOST:PORT`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`port ${port} is out of range`);
  return { host: (m[1] ?? m[2])!, port };
}
