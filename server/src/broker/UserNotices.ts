/**
 * Frames for users wherever they are: every socket of each user, in any room, on any node. Unlike
 * the broker's room channels (a node hears only the rooms it hosts), every node hears every
 * notice, and delivers it to the sockets it has of the users named.
 *
 * Best effort, like the broker's direct messages: a node that is away when a notice is published
 * does not get it later.
 */
export interface UserNotices {
  /** Hands `frame` to every node, for the sockets of `userIds`. Rejects (UNAVAILABLE) when it could not be published. */
  publish(userIds: readonly string[], frame: Uint8Array): Promise<void>;
  /** The one listener of this node: called with each notice (this node's own too). */
  onNotice(handler: (userIds: readonly string[], frame: Uint8Array) => void): void;
  /** Resolves once notices published from now on reach this node. */
  start(): Promise<void>;
  close(): Promise<void>;
}
