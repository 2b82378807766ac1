import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Encrypts credentials at rest (AES-256-GCM). The key lives outside the database — a file in the
 * manager's data directory (mode 0600) or PALISADE_SECRET_KEY — so a database dump or backup
 * alone does not hand out AWS keys. The associated data binds a ciphertext to its row, so it
 * cannot be copied onto another account.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
    return new SecretBox(key);
  }

  static random(): SecretBox {
    return new SecretBox(randomBytes(32));
  }

  /** PALISADE_SECRET_KEY (base64, 32 bytes) if set, else the key file, created on first use. */
  static loadOrCreate(file: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
    if (env.PALISADE_SECRET_KEY) return SecretBox.fromKey(Buffer.from(env.PALISADE_SECRET_KEY, 'base64'));
    if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return SecretBox.fromKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  }

  seal(value: unknown, context: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(context));
    const ct = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
  }

  open<T>(sealed: string, context: string): T {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('not a sealed secret');
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return JSON.parse(Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8')) as T;
  }
}
