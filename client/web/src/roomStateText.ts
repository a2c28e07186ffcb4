import type { RoomInfo } from '../../src/index.ts';
import { t } from './i18n.ts';

/**
 * The room's state as its badge says it, the same on every page: a scheduled show past its
 * start waits for the streamer (`late`), and one the server cancelled as never started says so
 * rather than "Ended". `waiting` names a scheduled show before its start (pages word it their way).
 */
export function roomStateText(room: RoomInfo, now: number, texts: { waiting: string; late: string }): string {
  if (room.state === 'live') return t('room.live');
  if (room.state === 'ended') return room.missed === true ? t('show.missed') : t('room.ended');
  return isLate(room, now) ? texts.late : texts.waiting;
}

/** A scheduled show whose announced start has passed. */
export function isLate(room: RoomInfo, now: number): boolean {
  return room.state === 'scheduled' && room.startsAt !== undefined && now >= room.startsAt;
}
