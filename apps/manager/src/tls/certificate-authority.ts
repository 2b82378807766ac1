import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caCertPem: string;
  caCertFile: string;
  key: string;
  cert: string;
}

// Keys come from node:crypto (native, fast); forge only builds and signs the certificates.
function rsaKeyPair() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem);
  const pub = forge.pki.setRsaPublicKey(priv.n, priv.e);
  return { pem, priv, pub };
}

function newCert(pub: forge.pki.PublicKey, years: number) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = pub;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 86400_000);
  return cert;
}

/**
 * The manager's own CA and server certificate, generated on first start into `<dir>/tls`.
 * Agents and the CLI trust the CA file (`--ca`), so HTTPS works without any public CA.
 */
export function ensureTlsMaterial(dataDir: string, extraNames: string[] = []): TlsMaterial {
  const dir = join(dataDir, 'tls');
  const files = {
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
  };
  if (!existsSync(files.caCert) || !existsSync(files.cert)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = rsaKeyPair();
    const caCert = newCert(ca.pub, 10);
    const caName = [{ name: 'commonName', value: `Palisade manager CA ${randomBytes(4).toString('hex')}` }];
    caCert.setSubject(caName);
    caCert.setIssuer(caName);
    caCert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    caCert.sign(ca.priv, forge.md.sha256.create());

    const server = rsaKeyPair();
    const cert = newCert(server.pub, 2);
    cert.setSubject([{ name: 'commonName', value: hostname() }]);
    cert.setIssuer(caName);
    const dns = [...new Set(['localhost', hostname(), ...extraNames.filter((n) => !/^[\d.:]+$/.test(n))])];
    const ips = [...new Set(['127.0.0.1', '::1', ...extraNames.filter((n) => /^[\d.:]+$/.test(n))])];
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
    ]);
    cert.sign(ca.priv, forge.md.sha256.create());

    writeFileSync(files.caKey, ca.pem, { mode: 0o600 });
    writeFileSync(files.key, server.pem, { mode: 0o600 });
    writeFileSync(files.caCert, forge.pki.certificateToPem(caCert));
    writeFileSync(files.cert, forge.pki.certificateToPem(cert));
    chmodSync(files.caKey, 0o600);
  }
  return {
    caCertPem: readFileSync(files.caCert, 'utf8'),
    caCertFile: files.caCert,
    key: readFileSync(files.key, 'utf8'),
    cert: readFileSync(files.cert, 'utf8'),
  };
}
