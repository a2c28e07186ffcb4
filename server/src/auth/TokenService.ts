import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { type Role, roleSchema } from '../../../protocol/src/index.ts';
import { ProtocolError } from '../errors.ts';

/** Who a request comes from, as proven by a token. */
export interface Principal {
  readonly userId: string;
  readonly name: string;
  readonly role: Role;
}

/**
 * HS256 tokens with claims `sub` (user id), `name` and `role`. Without a configured secret the
 * server runs in dev mode with a random one, so tokens die with the process.
 */
export class TokenService {
  readonly #key: Uint8Array;
  readonly #ttlSec: number;
  readonly devMode: boolean;

  constructor(secret: string | undefined, ttlSec: number) {
    this.devMode = secret === undefined;
    this.#key = new TextEncoder().encode(secret ?? randomBytes(32).toString('base64url'));
    this.#ttlSec = ttlSec;
  }

  async mint(principal: Principal, ttlSec = this.#ttlSec): Promise<string> {
    return new SignJWT({ name: principal.name, role: principal.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(principal.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSec)
      .sign(this.#key);
  }

  /** Throws ProtocolError UNAUTHORIZED for any token that is not ours, expired or malformed. */
  async verify(token: string): Promise<Principal> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'] }));
    } catch (error) {
      throw new ProtocolError('UNAUTHORIZED', `token rejected: ${(error as { code?: string }).code ?? 'invalid'}`);
    }
    const role = roleSchema.safeParse(payload.role);
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128 || !role.success) {
      throw new ProtocolError('UNAUTHORIZED', 'token lacks sub or a valid role');
    }
    const name = typeof payload.name === 'string' && payload.name.length > 0 ? payload.name.slice(0, 64) : payload.sub;
    return { userId: payload.sub, name, role: role.data };
  }
}
