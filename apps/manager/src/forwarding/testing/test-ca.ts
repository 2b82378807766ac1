import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface TestCertificate {
  cert: string;
  key: string;
}

function keyPair() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem);
  return { pem, priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

/** A throw-away CA for TLS tests: issues server certificates for loopback and client certificates. */
export class TestCa {
  readonly cert: string;
  private readonly caCert: forge.pki.Certificate;
  private readonly caKey: forge.pki.rsa.PrivateKey;

  constructor(name = 'Palisade test CA') {
    const k = keyPair();
    const c = forge.pki.createCertificate();
    c.publicKey = k.pub;
    c.serialNumber = `01${randomBytes(8).toString('hex')}`;
    c.validity.notBefore = new Date(Date.now() - 3600_000);
    c.validity.notAfter = new Date(Date.now() + 86400_000);
    const subject = [{ name: 'commonName', value: `${name} ${randomBytes(3).toString('hex')}` }];
    c.setSubject(subject);
    c.setIssuer(subject);
    c.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]);
    c.sign(k.priv, forge.md.sha256.create());
    this.caCert = c;
    this.caKey = k.priv;
    this.cert = forge.pki.certificateToPem(c);
  }

  issue(commonName: string, opts: { dns?: string[]; ips?: string[]; client?: boolean } = {}): TestCertificate {
    const k = keyPair();
    const c = forge.pki.createCertificate();
    c.publicKey = k.pub;
    c.serialNumber = `02${randomBytes(8).toString('hex')}`;
    c.validity.notBefore = new Date(Date.now() - 3600_000);
    c.validity.notAfter = new Date(Date.now() + 86400_000);
    c.setSubject([{ name: 'commonName', value: commonName }]);
    c.setIssuer(this.caCert.subject.attributes);
    const altNames = [...(opts.dns ?? []).map((value) => ({ type: 2, value })), ...(opts.ips ?? []).map((ip) => ({ type: 7, ip }))];
    c.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: !opts.client, clientAuth: Boolean(opts.client) },
      ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
    ]);
    c.sign(this.caKey, forge.md.sha256.create());
    return { cert: forge.pki.certificateToPem(c), key: k.pem };
  }
}
