import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { readClientHelloSni } from './tls-client-hello.ts';

/** The first bytes a real TLS client (Node's OpenSSL) sends, captured by a plain TCP server. */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  let got: (b: Buffer) => void = () => undefined;
  const first = new Promise<Buffer>((r) => (got = r));
  const server = net.createServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (d) => {
      chunks.push(d);
      const b = Buffer.concat(chunks);
      if (b.length >= 5 && b.length >= 5 + b.readUInt16BE(3)) {
        got(b);
        s.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = tls.connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    rejectUnauthorized: false,
    ...(servername ? { servername } : {}),
  });
  c.on('error', () => undefined);
  const hello = await first;
  c.destroy();
  server.close();
  return hello;
}

test('the server name of a real ClientHello, also when it arrives in pieces', async () => {
  const hello = await captureHello('Evil.Example');
  assert.equal(readClientHelloSni(hello), 'evil.example');
  assert.equal(readClientHelloSni(hello.subarray(0, 3)), undefined, 'too short: read more');
  assert.equal(readClientHelloSni(hello.subarray(0, hello.length - 1)), undefined, 'record incomplete: read more');
});

test('no SNI (an IP literal destination) and non-TLS bytes give null', async () => {
  assert.equal(readClientHelloSni(await captureHello(undefined)), null);
  assert.equal(readClientHelloSni(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), null);
});
