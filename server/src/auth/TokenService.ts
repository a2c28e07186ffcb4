import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { characterCount, isWellFormedText, type Role, roleSchema, truncateCharacters, WireLimits, wellFormedText } from '../../../protocol/src/index.ts';
import { ProtocolError } from '../errors.ts';

/** Who a request comes from, as proven by a token. */
export interface Principal {
  readonly userId: string;
  readonly name: string;
  readonly role: Role;
}

/** Verified tokens remembered at most; HTTP clients send the same token with every request. */
const VERIFIED_CACHE_SIZE = 100_000;

/**
 * HS256 tokens with claims `sub` (user id), `role`, `exp` (required: a token without an expiry would
 * be valid for ever) and optionally `name`. Without a configured secret the server runs in dev mode
 * with a random one, so tokens die with the process.
 */
export class TokenService {
  readonly #key: Promise<CryptoKey>;
  readonly #ttlSec: number;
  /** token → principal and expiry (epoch s). Insertion order is age order, for eviction. */
  readonly #verified = new Map<string, { principal: Principal; exp: number }>();
  readonly devMode: boolean;

  constructor(secret: string | undefined, ttlSec: number) {
    this.devMode = secret === undefined;
    const raw = new TextEncoder().encode(secret ?? randomBytes(32).toString('base64url'));
    // Imported once: jose re-imports a raw key on every call, which dominated per-request cost.
    this.#key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    this.#ttlSec = ttlSec;
  }

  async mint(principal: Principal, ttlSec = this.#ttlSec): Promise<string> {
    return new SignJWT({ name: principal.name, role: principal.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(principal.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSec)
      .sign(await this.#key);
  }

  /** Throws ProtocolError UNAUTHORIZED for any token that is not ours, expired or malformed. */
  async verify(token: string): Promise<Principal> {
    const cached = this.#verified.get(token);
    if (cached !== undefined) {
      if (cached.exp * 1000 > Date.now()) return cached.principal;
      this.#verified.delete(token);
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await this.#key, { algorithms: ['HS256'], requiredClaims: ['exp'] }));
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      // A claim failure says which claim (whoever mints tokens needs to know); others only their code.
      throw new ProtocolError('UNAUTHORIZED', `token rejected: ${code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? message : code ?? 'invalid'}`);
    }
    const role = roleSchema.safeParse(payload.role);
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || characterCount(payload.sub) > WireLimits.userIdLength || !isWellFormedText(payload.sub) || !role.success) {
      throw new ProtocolError('UNAUTHORIZED', 'token lacks sub or a valid role');
    }
    const name = typeof payload.name === 'string' && payload.name.length > 0 ? truncateCharacters(wellFormedText(payload.name), WireLimits.nameLength) : payload.sub;
    const principal: Principal = { userId: payload.sub, name, role: role.data };
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, { principal, exp: payload.exp! });
    return principal;
  }
}
