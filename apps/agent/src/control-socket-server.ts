import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { AgentError, errorMessage, isAgentError } from './agent-error.ts';
import type { AgentLogger } from './agent-logger.ts';
import { isAgentRunning } from './control-client.ts';

/** One request line on the control socket. */
export interface ControlRequest {
  id?: string | number;
  method: string;
  params?: Record<string, unknown>;
}

/** One response line; `error.code` is a stable AGENT_ code. */
export type ControlResponse =
  | { id?: string | number; ok: true; result: unknown }
  | { id?: string | number; ok: false; error: { code: string; message: string } };

export type ControlMethod = (params: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

const MAX_LINE = 64 * 1024;

/**
 * The local control channel for the CLI: a unix socket in the data dir, mode 0600, so only the
 * agent's user (root) can ask it anything. JSON lines: one request, one response, per line.
 */
export class ControlSocketServer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly abort = new AbortController();

  constructor(
    private readonly path: string,
    private readonly methods: Record<string, ControlMethod>,
    private readonly logger: AgentLogger,
  ) {}

  async listen(): Promise<void> {
    // sun_path holds 108 bytes on Linux; a longer path fails with an obscure EINVAL otherwise
    if (Buffer.byteLength(this.path) > 107) {
      throw new AgentError('AGENT_SOCKET_PATH_TOO_LONG', `control socket path ${this.path} is longer than 107 bytes; use a shorter --data-dir`);
    }
    if (existsSync(this.path)) {
      if (await isAgentRunning({ socketPath: this.path })) {
        throw new AgentError('AGENT_ALREADY_RUNNING', `another agent answers on ${this.path}; stop it first`);
      }
      unlinkSync(this.path); // left over by an agent that was killed
    }
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
    server.on('error', (err) => this.logger.error({ err: errorMessage(err) }, 'control socket error'));
    this.server = server;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const connection = new AbortController();
    const onStop = () => connection.abort();
    this.abort.signal.addEventListener('abort', onStop);
    socket.on('close', () => {
      this.sockets.delete(socket);
      connection.abort();
      this.abort.signal.removeEventListener('abort', onStop);
    });
    socket.on('error', () => undefined);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE && !buffer.includes('\n')) {
        this.reply(socket, { ok: false, error: { code: 'AGENT_CONTROL_BAD_REQUEST', message: 'request line too long' } });
        socket.end();
        return;
      }
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) void this.handle(socket, line, connection.signal);
        nl = buffer.indexOf('\n');
      }
    });
  }

  private reply(socket: net.Socket, response: ControlResponse): void {
    if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(response)}\n`);
  }

  private async handle(socket: net.Socket, line: string, signal: AbortSignal): Promise<void> {
    let request: ControlRequest;
    try {
      request = JSON.parse(line) as ControlRequest;
      if (!request || typeof request !== 'object' || typeof request.method !== 'string') throw new Error('no method');
    } catch {
      this.reply(socket, {
        ok: false,
        error: { code: 'AGENT_CONTROL_BAD_REQUEST', message: 'each line must be a JSON object with a "method"' },
      });
      return;
    }
    const method = this.methods[request.method];
    if (!method) {
      this.reply(socket, {
        id: request.id,
        ok: false,
        error: { code: 'AGENT_CONTROL_UNKNOWN_METHOD', message: `unknown method "${request.method}"` },
      });
      return;
    }
    try {
      const params = request.params && typeof request.params === 'object' ? request.params : {};
      const result = await method(params, signal);
      this.reply(socket, { id: request.id, ok: true, result });
    } catch (err) {
      this.reply(socket, {
        id: request.id,
        ok: false,
        error: { code: isAgentError(err) ? err.code : 'AGENT_INTERNAL', message: errorMessage(err) },
      });
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone (net removes it on close on some platforms)
    }
  }
}
