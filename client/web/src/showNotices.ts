/**
 * "Your show is live" notices, on any page with a socket (a room's page, the orders page): each
 * `showLive` the user's client hears (a show they set a reminder for went live) shows one notice
 * at the top of the page with a link to the show's room. A page with several sockets shows each
 * show once; the show's own room page shows none (it turns live by itself).
 */
import type { LivecartClient, ShowLiveEvent } from '../../src/index.ts';
import type { Show } from '../../src/index.ts';
import { api, h } from './common.ts';
import { t } from './i18n.ts';
import './shows.css';

/** Shows already announced on this page, by room id. */
const announced = new Set<string>();
let stack: HTMLElement | undefined;

/**
 * Listens to `client` for go-live notices. `currentRoom`: the room this page shows (no notice for
 * it). `token`: a token the page was opened with, passed on in the link (else the next page uses
 * the one this tab keeps).
 */
export function followShowNotices(client: LivecartClient, options: { currentRoom?: string | undefined; token?: string | undefined } = {}): void {
  client.on('showLive', (notice) => {
    if (notice.roomId === options.currentRoom || announced.has(notice.roomId)) return;
    announced.add(notice.roomId);
    announce(notice, options.token);
  });
}

/** The shows still to come that the user set a reminder for, soonest first (none when the read fails). */
export async function remindedShowIds(token: string): Promise<string[]> {
  try {
    return (await api<{ shows: Show[] }>('/api/me/reminders', { token })).shows.map((s) => s.id);
  } catch {
    return [];
  }
}

function announce(notice: ShowLiveEvent, token: string | undefined): void {
  const href = `/viewer?room=${encodeURIComponent(notice.roomId)}${token === undefined ? '' : `&token=${encodeURIComponent(token)}`}`;
  const item: HTMLElement = h('div', { class: 'show-live-notice', role: 'alert', 'data-testid': 'show-live-notice', 'data-room': notice.roomId },
    h('span', { class: 'show-live-dot', 'aria-hidden': 'true' }, '●'),
    h('span', { class: 'show-live-text' }, h('strong', {}, notice.title), t('notice.isLive')),
    h('a', { class: 'show-live-link', href, 'data-testid': 'show-live-link' }, t('notice.watch')),
    h('button', { type: 'button', class: 'show-live-close', 'aria-label': t('notice.dismiss'), onclick: () => item.remove() }, '✕'),
  );
  if (stack === undefined || !stack.isConnected) {
    stack = h('div', { class: 'show-live-stack', 'aria-live': 'assertive' });
    document.body.append(stack);
  }
  stack.append(item);
}
