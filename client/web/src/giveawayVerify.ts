/**
 * Checks a published giveaway draw (`draw.json`) in the browser with WebCrypto, by the rules of
 * docs/giveaway-verification.md (the same checks, in the same order, as scripts/verify-giveaway.mjs):
 * the format; SHA-256(seed bytes) = commitment; the entrants are 64-hex ids, strictly ascending, as
 * many as `entrantsCount`; the winners are the first K of the seed's Fisher–Yates shuffle.
 * Nothing here imports the server: it is the buyer's own check of the server's word.
 */

export const DRAW_FORMAT = 'livecart-giveaway/1';
const HEX64 = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

/** Why a draw does not hold: `reason` names the failed check (the page words it), `detail` is for the curious. */
export type DrawCheck =
  | { ok: true; winners: string[]; entrantsCount: number }
  | { ok: false; reason: 'format' | 'malformed' | 'commitment' | 'entrants' | 'count' | 'winners'; detail: string };

function bytesOf(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function hexOf(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

/** The seed's numbers below n: block i = SHA-256(seed ‖ i as 4 bytes big-endian), read 4 bytes at a time big-endian; u ≥ 2³² − (2³² mod n) is skipped. */
function seedStream(seedHex: string): (n: number) => Promise<number> {
  const seed = bytesOf(seedHex);
  let block: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  let counter = 0;
  let offset = 0;
  const next32 = async (): Promise<number> => {
    if (offset + 4 > block.length) {
      const input = new Uint8Array(seed.length + 4);
      input.set(seed);
      new DataView(input.buffer).setUint32(seed.length, counter++, false);
      block = await sha256(input);
      offset = 0;
    }
    const u = new DataView(block.buffer, block.byteOffset).getUint32(offset, false);
    offset += 4;
    return u;
  };
  return async (n) => {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const u = await next32();
      if (u < limit) return u % n;
    }
  };
}

/** The winners: the first min(k, n) of the seed's Fisher–Yates shuffle of the sorted entrants. */
export async function drawWinners(seedHex: string, entrants: readonly string[], k: number): Promise<string[]> {
  const list = [...entrants];
  const below = seedStream(seedHex);
  const count = Math.min(k, list.length);
  for (let i = 0; i < count; i++) {
    const j = i + (await below(list.length - i));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list.slice(0, count);
}

/** An entrant's published id: HMAC-SHA256(key = salt bytes, message = user id in UTF-8), hex. */
export async function entrantIdOf(saltHex: string, userId: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', bytesOf(saltHex), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hexOf(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(userId)));
}

const isHex64 = (v: unknown): v is string => typeof v === 'string' && HEX64.test(v);

/** Checks `draw` (parsed JSON of any shape). */
export async function verifyDraw(draw: unknown): Promise<DrawCheck> {
  const fail = (reason: Exclude<DrawCheck, { ok: true }>['reason'], detail: string): DrawCheck => ({ ok: false, reason, detail });
  if (draw === null || typeof draw !== 'object') return fail('malformed', 'not a JSON object');
  const d = draw as Record<string, unknown>;
  if (d.format !== DRAW_FORMAT) return fail('format', `format ${JSON.stringify(d.format)}`);
  if (!isHex64(d.seed)) return fail('malformed', 'seed: not 64 lowercase hex digits');
  if (!isHex64(d.commitment)) return fail('malformed', 'commitment: not 64 lowercase hex digits');
  if (typeof d.salt !== 'string' || !HEX.test(d.salt)) return fail('malformed', 'salt: not lowercase hex');
  const committed = hexOf((await sha256(bytesOf(d.seed))).buffer);
  if (committed !== d.commitment) return fail('commitment', `SHA-256(seed) = ${committed}, commitment = ${d.commitment}`);
  if (!Array.isArray(d.entrants)) return fail('malformed', 'entrants: not a list');
  const entrants: string[] = [];
  for (const [i, id] of (d.entrants as unknown[]).entries()) {
    if (!isHex64(id)) return fail('entrants', `entrants[${i}]: not 64 lowercase hex digits`);
    if (i > 0 && !(entrants[i - 1]! < id)) return fail('entrants', `entrants[${i}]: not sorted ascending without repeats`);
    entrants.push(id);
  }
  if (d.entrantsCount !== entrants.length) return fail('count', `${entrants.length} listed, ${String(d.entrantsCount)} announced`);
  if (typeof d.winnersWanted !== 'number' || !Number.isSafeInteger(d.winnersWanted) || d.winnersWanted < 1) return fail('malformed', 'winnersWanted: not a positive whole number');
  if (!Array.isArray(d.winners)) return fail('malformed', 'winners: not a list');
  const winners = await drawWinners(d.seed, entrants, d.winnersWanted);
  const published = d.winners as unknown[];
  if (winners.length !== published.length || winners.some((id, i) => id !== published[i])) return fail('winners', `published ${published.join(', ')}; recomputed ${winners.join(', ')}`);
  return { ok: true, winners, entrantsCount: entrants.length };
}
