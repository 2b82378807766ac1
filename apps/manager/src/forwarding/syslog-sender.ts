import { createSocket } from 'node:dgram';
import { isIPv6, type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { formatCef } from './cef-format.ts';
import type { EventSender } from './event-sender.ts';
import type { ForwardedEvent } from './forwarded-event.ts';
import type { ForwarderSecrets, SyslogFormat, SyslogSettings } from './forwarder-config.ts';
import { parseHostPort } from './host-port.ts';
import { formatLeef } from './leef-format.ts';
import { snsEventRecord } from './sns-event-layout.ts';
import { octetCountingFrame, syslogMessage } from './syslog-message.ts';

/** Largest UDP payload sent; longer messages are cut (IPv4 datagrams cannot carry more). */
export const MAX_UDP_BYTES = 65_000;
export const DEFAULT_FACILITY = 16;

export function renderEvent(format: SyslogFormat, e: ForwardedEvent): string {
  if (format === 'cef') return formatCef(e);
  if (format === 'leef') return formatLeef(e);
  return JSON.stringify(snsEventRecord(e));
}

/**
 * Syslog over UDP (one datagram per event), TCP or TLS (RFC 6587/5425 octet counting, one
 * connection per batch). TCP and TLS report a batch delivered once the receiver's side has
 * accepted every byte and the connection closed cleanly; UDP cannot know, so a receiver that is
 * down loses UDP messages (documented).
 */
export class SyslogSender implements EventSender {
  private readonly host: string;
  private readonly port: number;

  constructor(
    private readonly settings: SyslogSettings,
    private readonly secrets: ForwarderSecrets,
    private readonly timeoutMs = 10_000,
  ) {
    ({ host: this.host, port: this.port } = parseHostPort(settings.address));
  }

  messages(events: readonly ForwardedEvent[]): string[] {
    const rfc = this.settings.rfc ?? '5424';
    const facility = this.settings.facility ?? DEFAULT_FACILITY;
    return events.map((e) => syslogMessage(rfc, facility, e, renderEvent(this.settings.format, e)));
  }

  async send(events: readonly ForwardedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const messages = this.messages(events);
    if (this.settings.protocol === 'udp') return this.sendUdp(messages);
    return this.sendStream(Buffer.concat(messages.map(octetCountingFrame)));
  }

  private async sendUdp(messages: string[]): Promise<void> {
    const socket = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    try {
      for (const m of messages) {
        const buf = Buffer.from(m, 'utf8');
        const payload = buf.length > MAX_UDP_BYTES ? buf.subarray(0, MAX_UDP_BYTES) : buf;
        await new Promise<void>((resolve, reject) => socket.send(payload, this.port, this.host, (err) => (err ? reject(err) : resolve())));
      }
    } finally {
      socket.close();
    }
  }

  private sendStream(data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let socket: Socket;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        reject(err);
      };
      const onConnect = () => {
        socket.end(data);
      };
      if (this.settings.protocol === 'tls') {
        socket = tlsConnect(
          {
            host: this.host,
            port: this.port,
            servername: this.settings.serverName ?? (isIPv6(this.host) || /^[0-9.]+$/.test(this.host) ? undefined : this.host),
            ...(this.settings.caPem ? { ca: this.settings.caPem } : {}),
            ...(this.settings.clientCertPem && this.secrets.clientKeyPem
              ? { cert: this.settings.clientCertPem, key: this.secrets.clientKeyPem }
              : {}),
            // Verified always: a name must match a DNS SAN, an address an IP SAN.
            rejectUnauthorized: true,
          },
          onConnect,
        );
      } else {
        socket = tcpConnect({ host: this.host, port: this.port }, onConnect);
      }
      socket.setTimeout(this.timeoutMs, () => fail(new Error(`syslog ${this.settings.protocol} ${this.settings.address}: timed out`)));
      socket.on('error', (err) => fail(err));
      // Drain anything the receiver says so that its FIN arrives and 'close' fires.
      socket.on('data', () => {});
      socket.on('close', (hadError) => {
        if (settled) return;
        if (hadError) return fail(new Error(`syslog ${this.settings.protocol} ${this.settings.address}: connection failed`));
        settled = true;
        resolve();
      });
    });
  }

  async close(): Promise<void> {}
}
