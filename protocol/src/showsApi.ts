import type { RoomInfo } from './messages.ts';

/** A show as `GET /api/streamers/:streamerId/shows` lists it: the room, its reminder count, and whether the caller set one. */
export type Show = RoomInfo & {
  /** Users with a reminder set. */
  reminders: number;
  /** Whether the caller (the request's bearer token) has a reminder set; absent without a token. */
  reminded?: boolean;
};

/** The answer of `GET`, `POST` and `DELETE /api/rooms/:id/reminder`. */
export interface ReminderState {
  roomId: string;
  /** Whether the caller has a reminder set for the show now. */
  reminded: boolean;
  /** Users with a reminder set for the show. */
  reminders: number;
}
