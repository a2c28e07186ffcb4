import { createHmac, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../errors.ts';

/** How far a signed call's clock may be from the receiver's (node clocks must agree well within the registry's down bound anyway). */
const MAX_SKEW_MS = 30_000;
const SCHEME = 'LivecartNode';

/**
 * Calls from one node to another (media pipes): HMAC-SHA256 over the method, path, time and body,
 * with a key derived from the token secret every node of a deployment shares. Sent as
 * `Authorization: LivecartNode <ms>.<hex>`; a call older than 30 s, or signed otherwise, is refused.
 */
export class NodeSignature {
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(tokenSecret: string, now: () => number = Date.now) {
    this.#key = createHmac('sha256', tokenSecret).update('livecart node-to-node v1').digest();
    this.#now = now;
  }

  /** The Authorization header for a call. */
  sign(method: string, path: string, body: string | Uint8Array): string {
    const at = this.#now();
    return `${SCHEME} ${at}.${this.#mac(method, path, at, body).toString('hex')}`;
  }

  /** Throws UNAUTHORIZED unless `authorization` signs this call, recently. */
  verify(authorization: string, method: string, path: string, body: string | Uint8Array): void {
    const match = /^LivecartNode (\d{1,16})\.([0-9a-f]{64})$/.exec(authorization);
    if (match === null) throw new ProtocolError('UNAUTHORIZED', 'node-to-node calls need Authorization: LivecartNode <signature>');
    const at = Number(match[1]);
    if (Math.abs(this.#now() - at) > MAX_SKEW_MS) throw new ProtocolError('UNAUTHORIZED', 'node-to-node call too old (or the node clocks disagree)');
    const given = Buffer.from(match[2]!, 'hex');
    if (!timingSafeEqual(given, this.#mac(method, path, at, body))) throw new ProtocolError('UNAUTHORIZED', 'bad node-to-node signature (the nodes need the same --token-secret)');
  }

  #mac(method: string, path: string, at: number, body: string | Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(`${method.toUpperCase()} ${path}\n${at}\n`).update(body).digest();
  }
}
