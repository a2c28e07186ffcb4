import { TypedEmitter } from '../../../protocol/src/index.ts';
import type { Logger } from '../log.ts';
import type { Member } from './Member.ts';
import type { Room } from './Room.ts';

export interface RoomLifecycleEvents {
  /** This node starts hosting the room: its first member is joining (the room has no members yet). */
  hosted: Room;
  /** An operator changed the room's settings (heard on every node that hosts it); `room.settings` holds them. */
  settingsChanged: Room;
  /** The room's media origin changed (a stream started, changed or stopped on some node; heard on every node that hosts the room). */
  mediaChanged: string;
  /** The room's show ended (heard on every node that hosts it). */
  ended: string;
  /** A socket joined a room here (a member or an orders follower): its `welcome` has been sent. */
  joined: Member;
  /** This node no longer hosts the room (idle, reset, or ended with nobody left): per-room state kept for it elsewhere can go. */
  unhosted: string;
}

/** A part that keeps state per room and lets a room's go when told. */
export interface ForgetsRooms {
  forget(roomId: string): void;
  /** The sizes of its per-room maps, for operators (`GET /api/ops/node`). */
  perRoomState(): Record<string, number>;
  /**
   * Rooms it keeps something for that have been quiet for `idleForMs` (nothing waiting): a part
   * that also serves rooms this node does not host (HTTP carts) lets the lifecycle forget those.
   */
  idleRooms?(idleForMs: number): Iterable<string>;
}

/**
 * A room's life on this node, as events any number of parts subscribe to. Emitted when a room
 * starts or stops being hosted here, when a socket joins, when its show ends and when an operator
 * changes its settings, never per message. A listener that throws is logged; the others still hear the event.
 */
export class RoomLifecycle extends TypedEmitter<RoomLifecycleEvents> {
  readonly #log: Logger;
  readonly #forgetWhenUnhosted: Array<Pick<ForgetsRooms, 'forget' | 'idleRooms'>> = [];

  constructor(log: Logger) {
    super({ onListenerError: (error, event) => log.error({ err: error, event }, 'a room lifecycle listener threw') });
    this.#log = log;
  }

  /** `part` forgets a room when this node no longer hosts it, or never hosted it and the part's state of it is idle (`forgetIdleNotHosted`). */
  forgetWhenUnhosted(part: Pick<ForgetsRooms, 'forget' | 'idleRooms'>): void {
    this.#forgetWhenUnhosted.push(part);
    this.on('unhosted', (roomId) => part.forget(roomId));
  }

  /**
   * Rooms this node does not host still leave state behind (a buyer's HTTP cart request reaches
   * any node): each part forgets those it has kept quiet for `idleForMs`.
   */
  forgetIdleNotHosted(isHosted: (roomId: string) => boolean, idleForMs: number): void {
    for (const part of this.#forgetWhenUnhosted) {
      if (part.idleRooms === undefined) continue;
      try {
        const idle = [...part.idleRooms(idleForMs)].filter((roomId) => !isHosted(roomId));
        for (const roomId of idle) part.forget(roomId);
      } catch (error) {
        this.#log.error({ err: error }, 'a part could not forget its idle rooms');
      }
    }
  }

  /** `part` forgets a room when its show ends. */
  forgetWhenEnded(part: Pick<ForgetsRooms, 'forget'>): void {
    this.on('ended', (roomId) => part.forget(roomId));
  }
}
