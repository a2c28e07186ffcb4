import type { Popup, Product, RoomInfo, RoomState } from '../../../protocol/src/index.ts';

/** Everything a node needs to start hosting a room, besides its recent events. */
export interface RoomRecord {
  readonly info: RoomInfo;
  /** Shared by every node, so a client may resume on any node that holds the events. */
  readonly epoch: string;
  readonly catalog: readonly Product[];
  readonly popup: Popup | null;
  readonly muted: readonly string[];
  /** userId → epoch ms until which the user may not rejoin. */
  readonly bans: Readonly<Record<string, number>>;
  readonly likes: number;
}

/**
 * The durable, shared state of rooms (memory on one node, Redis across nodes). Commands write here
 * first, then publish their event; a node that starts hosting a room reads its record here, so its
 * view is never older than the events it will receive next.
 */
export interface RoomDirectory {
  /** Creates the room unless the id is taken or `maxRooms` exist. */
  create(info: RoomInfo, epoch: string, maxRooms: number): Promise<'created' | 'exists' | 'full'>;
  get(roomId: string): Promise<RoomRecord | undefined>;
  list(): Promise<RoomInfo[]>;
  setState(roomId: string, state: RoomState): Promise<void>;
  putProduct(roomId: string, product: Product): Promise<void>;
  setPopup(roomId: string, popup: Popup | null): Promise<void>;
  setMuted(roomId: string, userId: string, muted: boolean): Promise<void>;
  setBan(roomId: string, userId: string, until: number): Promise<void>;
  /** Adds taps; resolves with the room's total. */
  addLikes(roomId: string, taps: number): Promise<number>;
  /** This node's member count; resolves with the total over nodes that reported within `freshMs`. */
  reportViewers(roomId: string, nodeId: string, count: number, now: number, freshMs: number): Promise<number>;
  close(): Promise<void>;
}
