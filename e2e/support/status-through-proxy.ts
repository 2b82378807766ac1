import { type OutgoingHttpHeaders, request } from 'node:http';

/**
 * Sends one request to a proxy (the agent's IPS or web-reputation proxy) on 127.0.0.1:`port` and
 * resolves with the status code it answers; the body is read and dropped.
 */
export function statusThroughProxy(
  port: number,
  r: { method?: string; path: string; headers?: OutgoingHttpHeaders; body?: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: r.method ?? 'GET', path: r.path, headers: r.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}
