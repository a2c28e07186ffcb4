import type { UserNotices } from './UserNotices.ts';

/** Notices of a single node: a publish is a call to the node's listener. */
export class LocalUserNotices implements UserNotices {
  #handler: ((userIds: readonly string[], frame: Uint8Array) => void) | undefined;

  async publish(userIds: readonly string[], frame: Uint8Array): Promise<void> {
    this.#handler?.(userIds, frame);
  }

  onNotice(handler: (userIds: readonly string[], frame: Uint8Array) => void): void {
    this.#handler = handler;
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {}
}
