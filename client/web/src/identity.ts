/**
 * Who the viewer is, the same across reloads and tabs of this browser.
 *
 * - A token in the page's URL (`?token=…`, minted by the shop's own backend: see the README's
 *   "Viewer tokens from your backend") is used as given.
 * - Otherwise the token kept in localStorage (`livecart.identity`, shared by every tab of the
 *   origin) is used until it is about to expire.
 * - Otherwise, in dev mode only (a server without --token-secret), a guest token is minted at
 *   `/api/dev/token` and kept. Tabs opening at once take a Web Lock, so they mint one between them.
 */
import { api, ApiError, params } from './common.ts';

const STORAGE_KEY = 'livecart.identity';
const LOCK_NAME = 'livecart.identity';
/** A kept token this close to its expiry is replaced rather than used. */
const EXPIRY_MARGIN_MS = 60_000;

export interface Identity {
  token: string;
  userId: string;
  name: string;
  /** Expiry, epoch ms (from the token's `exp`). */
  expiresAt: number;
  /** Minted here from /api/dev/token (a refused one may be replaced by a new one). */
  dev: boolean;
}

/** The claims of a JWT this page can read (it cannot check the signature; the server does). */
export function readToken(token: string): { userId: string; name: string; expiresAt: number; role?: string } | undefined {
  try {
    const payload = token.split('.')[1];
    if (payload === undefined) return undefined;
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)))) as { sub?: unknown; name?: unknown; exp?: unknown; role?: unknown };
    if (typeof json.sub !== 'string' || typeof json.exp !== 'number') return undefined;
    return { userId: json.sub, name: typeof json.name === 'string' ? json.name : json.sub, expiresAt: json.exp * 1000, ...(typeof json.role === 'string' ? { role: json.role } : {}) };
  } catch {
    return undefined;
  }
}

/** The identity kept for this origin, if it is still good for a while. */
export function keptIdentity(): Identity | undefined {
  try {
    const kept = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Identity | null;
    if (kept === null || typeof kept.token !== 'string' || !(kept.expiresAt > Date.now() + EXPIRY_MARGIN_MS)) return undefined;
    return kept;
  } catch {
    return undefined;
  }
}

/** Forgets the kept identity if it is still `token` (another tab may have replaced it already). */
export function forgetIdentity(token: string): void {
  if (keptIdentity()?.token === token) localStorage.removeItem(STORAGE_KEY);
}

/**
 * The viewer's identity: the URL's token, the kept one, or a new dev token (kept). Resolves
 * undefined when there is none to be had: the server runs with a token secret and the URL brought
 * no token (the shop's page must pass one).
 */
export async function viewerIdentity(): Promise<Identity | undefined> {
  const given = params.get('token');
  if (given !== null) {
    const claims = readToken(given);
    return { token: given, userId: claims?.userId ?? '', name: claims?.name ?? '', expiresAt: claims?.expiresAt ?? 0, dev: false };
  }
  const kept = keptIdentity();
  if (kept !== undefined) return kept;
  return navigator.locks === undefined ? mintDevIdentity() : navigator.locks.request(LOCK_NAME, () => keptIdentity() ?? mintDevIdentity());
}

async function mintDevIdentity(): Promise<Identity | undefined> {
  const name = params.get('name') ?? `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
  try {
    const { token, userId } = await api<{ token: string; userId: string }>(`/api/dev/token?name=${encodeURIComponent(name)}`);
    const identity: Identity = { token, userId, name, expiresAt: readToken(token)?.expiresAt ?? Date.now() + 3600_000, dev: true };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(identity));
    return identity;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}
