import net from 'node:net';
import tls from 'node:tls';
import type { ReplayRequest } from './replay-request.ts';

export interface RawResponse {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/**
 * Serialises a replay request byte for byte (UTF-8 strings, no normalisation of the target), the
 * way an exploit tool sends it; Node's http client would refuse or rewrite many exploit targets.
 */
export function serializeRequest(r: ReplayRequest, host: string): Buffer {
  const body = Buffer.from(r.body, 'utf8');
  const lines = [`${r.method} ${r.uri} HTTP/1.1`];
  const has = (n: string) => r.headers.some(([k]) => k.toLowerCase() === n);
  if (!has('host')) lines.push(`Host: ${host}`);
  for (const [k, v] of r.headers) if (k.toLowerCase() !== 'content-length' && k.toLowerCase() !== 'connection') lines.push(`${k}: ${v}`);
  const conn = r.headers.find(([k]) => k.toLowerCase() === 'connection');
  // A Connection header that names other headers is part of some exploits (hop-by-hop abuse).
  lines.push(`Connection: ${conn && /,/.test(conn[1]) ? conn[1].replace(/keep-alive/i, 'close') : 'close'}`);
  if (body.length || /^(?:POST|PUT|PATCH)$/i.test(r.method)) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

export function parseResponse(buf: Buffer): RawResponse | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const headers = head.slice(1).map((l): [string, string] => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
  return { status, headers, body: buf.subarray(end + 4) };
}

/** Sends one request on a fresh connection and reads until the server closes it. */
export function sendRaw(target: { host: string; port: number; tls?: boolean }, payload: Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = target.tls
      ? tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false })
      : net.connect(target.port, target.host);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    sock.on(target.tls ? 'secureConnect' : 'connect', () => sock.write(payload));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => {
      const r = parseResponse(Buffer.concat(chunks));
      clearTimeout(timer);
      if (r) resolve(r);
      else reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const r = parseResponse(Buffer.concat(chunks));
      if (r) resolve(r);
      else reject(new Error('connection closed without a response'));
    });
  });
}
