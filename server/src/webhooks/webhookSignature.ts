import { createHmac } from 'node:crypto';

/**
 * The `Livecart-Signature` header of a webhook POST: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>">`, as Stripe signs. The timestamp is signed with the body, so a receiver can
 * refuse an old request replayed (it checks `t` is recent) as well as a forged one.
 */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
