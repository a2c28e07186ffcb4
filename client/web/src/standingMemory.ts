/**
 * What this browser remembers of its own standing in a room across reloads: the server's cards
 * are the same for every viewer, so a page's own answers (entered a giveaway, leads an auction up
 * to a maximum) would be lost with the page. One value per kind and room (the latest), kept for
 * the identity that earned it; a check of its shape guards against old or foreign values.
 */
const PREFIX = 'livecart.standing.';

export function rememberStanding(kind: string, roomId: string, userId: string, value: unknown): void {
  try {
    localStorage.setItem(`${PREFIX}${kind}.${roomId}`, JSON.stringify({ userId, value }));
  } catch {
    // Storage full or switched off: the page forgets at its next load, as before.
  }
}

export function recallStanding<T>(kind: string, roomId: string, userId: string, isValue: (value: unknown) => value is T): T | undefined {
  try {
    const raw = localStorage.getItem(`${PREFIX}${kind}.${roomId}`);
    if (raw === null) return undefined;
    const kept = JSON.parse(raw) as { userId?: unknown; value?: unknown };
    return kept.userId === userId && isValue(kept.value) ? kept.value : undefined;
  } catch {
    return undefined;
  }
}
