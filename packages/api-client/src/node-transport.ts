import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ApiTransport } from './api-transport.ts';

/** HTTP(S) with the manager's own CA, which a plain fetch in Node cannot be given. */
export function nodeTransport(caPem: string | undefined): ApiTransport {
  return (req) =>
    new Promise((resolvePromise, reject) => {
      const url = new URL(req.url);
      const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const r = fn(url, { method: req.method, headers: req.headers, ...(caPem ? { ca: caPem } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      r.on('error', reject);
      r.setTimeout(60_000, () => r.destroy(new Error('request timed out')));
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });
}
