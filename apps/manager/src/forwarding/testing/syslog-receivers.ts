import { createSocket } from 'node:dgram';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { OctetCountingDecoder } from './syslog-parser.ts';

export interface SyslogReceiver {
  port: number;
  /** Messages in arrival order (frames, not lines). */
  messages: string[];
  /** TLS: subject CN of the client certificate of each connection that showed one. */
  clientNames: string[];
  waitFor(count: number, timeoutMs?: number): Promise<string[]>;
  close(): Promise<void>;
}

function waiter(messages: string[]) {
  return async (count: number, timeoutMs = 10_000) => {
    const end = Date.now() + timeoutMs;
    while (messages.length < count) {
      if (Date.now() > end) throw new Error(`expected ${count} syslog messages, got ${messages.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return messages;
  };
}

/** A UDP syslog receiver on loopback: one message per datagram (RFC 5426). */
export async function startUdpReceiver(port = 0): Promise<SyslogReceiver> {
  const socket = createSocket('udp4');
  const messages: string[] = [];
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    messages,
    clientNames: [],
    waitFor: waiter(messages),
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

export interface TlsReceiverOptions {
  key: string;
  cert: string;
  /** Require a client certificate signed by this CA (mutual TLS). */
  clientCa?: string;
}

/** A TCP (RFC 6587) or TLS (RFC 5425) syslog receiver on loopback that decodes octet counting. */
export async function startStreamReceiver(opts: { port?: number; tls?: TlsReceiverOptions } = {}): Promise<SyslogReceiver> {
  const messages: string[] = [];
  const clientNames: string[] = [];
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const decoder = new OctetCountingDecoder();
    socket.on('data', (chunk: Buffer) => messages.push(...decoder.push(chunk)));
    socket.on('error', () => {});
  };
  let server: Server;
  if (opts.tls) {
    server = createTlsServer(
      {
        key: opts.tls.key,
        cert: opts.tls.cert,
        ...(opts.tls.clientCa ? { ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
      },
      (socket) => {
        const cn = socket.getPeerCertificate()?.subject?.CN;
        if (cn) clientNames.push(String(cn));
        onSocket(socket);
      },
    );
    server.on('tlsClientError', () => {});
  } else {
    server = createTcpServer(onSocket);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    messages,
    clientNames,
    waitFor: waiter(messages),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
