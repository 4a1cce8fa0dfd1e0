// One Keystone token for every Lambda container of a deployment, never in the execution
// history: the token a container obtained is kept in the shared state store (the DynamoDB
// table), sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the credential's
// secret itself, so only a holder of the same OpenStack credentials, who could get a token
// anyway, can open it. The item's name is a hash of who the token is for (endpoint, user,
// project, region), never of the secret. A cold container then reads a token instead of
// asking Keystone for a new one (which each nova-api worker would also have to validate).
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Connection } from './credentials.js';

export interface SharedValues {
  getValue(key: string): Promise<string | null>;
  putValue(key: string, value: string, ttlMs: number): Promise<void>;
}

export interface SealedToken {
  value: string;
  expiresAt: number;
  catalog: unknown[];
}

const SALT = 'freezer-dr keystone token share v1';

/** Who a token is for, without any secret in it. */
function identity(connection: Connection): string {
  const { auth } = connection;
  return JSON.stringify([
    auth.auth_url,
    connection.authType,
    auth.application_credential_id ?? null,
    auth.user_id ?? auth.username ?? null,
    auth.user_domain_id ?? auth.user_domain_name ?? null,
    auth.project_id ?? auth.project_name ?? null,
    auth.project_domain_id ?? auth.project_domain_name ?? null,
    connection.region,
    connection.interface,
  ]);
}

export class TokenShare {
  private readonly key: Buffer;
  readonly name: string;

  private constructor(
    private readonly values: SharedValues,
    connection: Connection,
    secret: string,
  ) {
    const who = identity(connection);
    this.name = `keystone-token#${createHash('sha256').update(who).digest('hex')}`;
    this.key = Buffer.from(hkdfSync('sha256', secret, SALT, who, 32));
  }

  /** null when the credentials have no secret to derive a key from. */
  static for(values: SharedValues, connection: Connection): TokenShare | null {
    const secret = connection.auth.password ?? connection.auth.application_credential_secret;
    return secret ? new TokenShare(values, connection, secret) : null;
  }

  async read(): Promise<SealedToken | null> {
    const sealed = await this.values.getValue(this.name).catch(() => null);
    if (!sealed) return null;
    try {
      const [iv, tag, data] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv as Buffer);
      decipher.setAuthTag(tag as Buffer);
      const text = Buffer.concat([decipher.update(data as Buffer), decipher.final()]).toString('utf8');
      return JSON.parse(text) as SealedToken;
    } catch {
      return null; // sealed under other credentials (rotated), or damaged: not ours to use
    }
  }

  async write(token: SealedToken, ttlMs: number): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(token), 'utf8'), cipher.final()]);
    const sealed = [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url')).join('.');
    await this.values.putValue(this.name, sealed, ttlMs).catch(() => undefined);
  }
}
