import net from 'node:net';
import type { MiddlewareDetection } from './ips-middleware.ts';

export interface AgentReporter {
  (d: MiddlewareDetection): void;
  /** Lines written so far and lines dropped (agent unreachable, queue full). */
  readonly stats: { sent: number; dropped: number };
  close(): void;
}

/**
 * Sends detections to the local agent's IPS module, one JSON line each, over its unix socket
 * (`<agent data dir>/modules/ips/middleware.sock`). Best effort by design: the application must
 * never wait for, or fail because of, its security reporting; a bounded queue covers reconnects.
 */
export function agentReporter(socketPath: string, service: string, maxQueue = 1000): AgentReporter {
  let sock: net.Socket | undefined;
  let connected = false;
  const queue: string[] = [];
  const stats = { sent: 0, dropped: 0 };
  const flush = () => {
    while (connected && sock && queue.length) {
      sock.write(queue.shift()!);
      stats.sent++;
    }
  };
  const connect = () => {
    if (sock) return;
    const s = net.connect(socketPath);
    sock = s;
    s.on('connect', () => {
      connected = true;
      flush();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      connected = false;
      sock = undefined;
    });
    s.unref();
  };
  const report = ((d: MiddlewareDetection) => {
    if (queue.length >= maxQueue) {
      stats.dropped++;
      return;
    }
    queue.push(`${JSON.stringify({ ...d, service })}\n`);
    connect();
    flush();
  }) as AgentReporter;
  Object.defineProperty(report, 'stats', { value: stats });
  report.close = () => {
    sock?.end();
    sock = undefined;
  };
  return report;
}
