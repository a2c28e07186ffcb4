/**
 * Redis key and channel names. Every key of a room carries the room's hash tag `{r:ROOM}`, so on
 * Redis Cluster all of a room's keys live in one slot and each Lua script touches one slot. Keys
 * that are not per room (the room list, the node registry) are only ever touched one at a time.
 */

/** The part of a room's keys before their kind: `ns:{r:ROOM}`. Scripts get it as KEYS[1] (it routes the call to the room's slot) and append `:kind`. */
export function roomBase(ns: string, roomId: string): string {
  return `${ns}:{r:${roomId}}`;
}

/** `ns:{r:ROOM}:kind`, for example kind `inv:SKU` or `cart:USER`. */
export function roomKey(ns: string, roomId: string, kind: string): string {
  return `${roomBase(ns, roomId)}:${kind}`;
}

/**
 * `ns:{u:USER}:kind`: a user's own key (their order list), in a slot of the user's, never the
 * room's: it is written apart from the room's scripts, one single-key command at a time.
 */
export function userKey(ns: string, userId: string, kind: string): string {
  return `${ns}:{u:${userId}}:${kind}`;
}

/** A key that belongs to no room (one slot of its own on a cluster). */
export function globalKey(ns: string, kind: string): string {
  return `${ns}:${kind}`;
}

/** A room's pub/sub channel: in the room's slot, so a sharded publish from a room's script is legal and reaches only that shard. */
export function roomChannel(ns: string, roomId: string): string {
  return `${ns}:ch:{r:${roomId}}`;
}

/** The room id of a channel named by `roomChannel`, or undefined. */
export function roomOfChannel(ns: string, channel: string): string | undefined {
  const head = `${ns}:ch:{r:`;
  if (!channel.startsWith(head) || !channel.endsWith('}')) return undefined;
  return channel.slice(head.length, -1);
}
