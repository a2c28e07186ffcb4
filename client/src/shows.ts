import type { ReminderState, RoomInfo, Show } from '../../protocol/src/index.ts';
import { LivecartError } from './LivecartError.ts';

/**
 * Scheduled shows over the server's HTTP API: schedule one (streamers), list a streamer's live and
 * upcoming shows, and set or remove the caller's "remind me". The go-live notice itself comes on
 * the WebSocket, as the `showLive` event of any connected client of the user.
 *
 *   const { shows } = await upcomingShows({ baseUrl, token }, 'streamer-1');
 *   await setReminder({ baseUrl, token }, shows[0].id, true);   // { reminded: true, reminders }
 *   client.on('showLive', ({ roomId, title }) => notify(title, `/viewer?room=${roomId}`));
 */
export interface HttpTarget {
  /** The server's HTTP address, e.g. `http://127.0.0.1:8080` (no trailing slash needed). */
  baseUrl: string;
  /** A livecart token; optional only where the call says so. */
  token?: string | undefined;
  /** A fetch implementation; default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Creates a room announced for `startsAt` (epoch ms, in the future): it stays `scheduled` until its streamer starts it. */
export async function scheduleShow(target: HttpTarget, show: { title: string; startsAt: number; id?: string }): Promise<RoomInfo> {
  return (await call<{ room: RoomInfo }>(target, 'POST', '/api/rooms', show)).room;
}

/** The streamer's live shows, then the scheduled ones, soonest first; with a token each says whether the caller set a reminder. */
export async function upcomingShows(target: HttpTarget, streamerId: string): Promise<Show[]> {
  return (await call<{ shows: Show[] }>(target, 'GET', `/api/streamers/${encodeURIComponent(streamerId)}/shows`)).shows;
}

/** Sets (`on` true) or removes the caller's reminder for the show; idempotent either way. */
export async function setReminder(target: HttpTarget, roomId: string, on: boolean): Promise<ReminderState> {
  return call<ReminderState>(target, on ? 'POST' : 'DELETE', `/api/rooms/${encodeURIComponent(roomId)}/reminder`);
}

/** The scheduled shows the caller set a reminder for that have not started yet, soonest first. */
export async function myReminders(target: HttpTarget): Promise<Show[]> {
  return (await call<{ shows: Show[] }>(target, 'GET', '/api/me/reminders')).shows;
}

/** Whether the caller has a reminder for the show, and how many users do. */
export async function reminderOf(target: HttpTarget, roomId: string): Promise<ReminderState> {
  return call<ReminderState>(target, 'GET', `/api/rooms/${encodeURIComponent(roomId)}/reminder`);
}

/** One JSON call; an error answer rejects with a `LivecartError` carrying the server's code. */
async function call<T>(target: HttpTarget, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await (target.fetch ?? fetch)(`${target.baseUrl.replace(/\/+$/, '')}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await response.json().catch(() => undefined)) as { error?: { code: number; message: string; temporary: boolean; retryAfterMs?: number } } | undefined;
  if (!response.ok) {
    const error = json?.error;
    throw LivecartError.fromErr({ code: error?.code ?? 1500, message: error?.message ?? `HTTP ${response.status}`, temporary: error?.temporary ?? response.status >= 500, ...(error?.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) });
  }
  return json as T;
}
