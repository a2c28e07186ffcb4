/**
 * The streamer page's "Scheduled shows" panel: schedule a show (title, date and time; the room is
 * created with `startsAt` and stays scheduled until "Go live"), and the streamer's live and
 * upcoming shows, the upcoming ones with how many viewers set a reminder (GET /api/streamers/:id/shows,
 * read again every few seconds). Each show links to its studio page, where its preview products
 * are added and the show is started. A show past its start time that is not live yet is shown as
 * late, with "Start now" right there (the server cancels it as missed after its grace).
 */
import type { RoomInfo, Show } from '../../src/index.ts';
import { api, errorText, h, say, setText, show } from './common.ts';
import { formatShowTime, t, tn } from './i18n.ts';
import './shows.css';

const REFRESH_MS = 5000;

export function mountShowScheduler(token: string): void {
  const streamerId = subjectOf(token);
  const titleInput = h('input', { id: 'show-title', name: 'title', required: true, maxlength: 200, placeholder: t('scheduler.titlePlaceholder'), 'data-testid': 'show-title-input' });
  const timeInput = h('input', { id: 'show-time', name: 'startsAt', type: 'datetime-local', required: true, 'data-testid': 'show-time-input' });
  timeInput.value = localInputValue(new Date(Date.now() + 3_600_000));
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'show-status' });
  const list = h('ul', { class: 'show-list', 'data-testid': 'scheduled-shows' });
  const empty = h('p', { class: 'muted' }, t('scheduler.none'));
  const form = h('form', { class: 'form-grid', autocomplete: 'off' },
    h('label', { for: 'show-title' }, t('scheduler.showTitle')), titleInput,
    h('label', { for: 'show-time' }, t('scheduler.startsAt')), timeInput,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'schedule-show' }, t('scheduler.schedule')),
  );
  const panel = h('section', { class: 'panel show-scheduler', 'aria-labelledby': 'show-scheduler-title', 'data-testid': 'show-scheduler' },
    h('h2', { id: 'show-scheduler-title' }, t('scheduler.title')),
    h('p', { class: 'muted small' }, t('scheduler.hint')),
    form, status, list, empty,
  );
  (document.querySelector('main') ?? document.body).append(panel);

  const refresh = async () => {
    if (streamerId === undefined) return;
    try {
      // The shop's room comes in the list as live; it is no show to schedule or start.
      const shows = (await api<{ shows: Show[] }>(`/api/streamers/${encodeURIComponent(streamerId)}/shows`, { token })).shows.filter((s) => s.kind !== 'shop');
      list.replaceChildren(...shows.map((s) => showRow(s, token, start)));
      show(empty, shows.length === 0);
    } catch (error) {
      say(status, t('scheduler.readFailed', { why: errorText(error) }), 'error');
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const startsAt = new Date(timeInput.value).getTime();
    if (!Number.isFinite(startsAt)) {
      say(status, t('scheduler.pickTime'), 'error');
      return;
    }
    say(status, t('scheduler.scheduling'));
    api<{ room: RoomInfo }>('/api/rooms', { method: 'POST', token, body: { title: titleInput.value.trim(), startsAt } }).then(
      ({ room }) => {
        titleInput.value = '';
        say(status, t('scheduler.scheduled', { title: room.title }), 'ok');
        void refresh();
      },
      (error: unknown) => say(status, t('scheduler.failed', { why: errorText(error) }), 'error'),
    );
  });

  const start = (s: Show, button: HTMLButtonElement) => {
    button.disabled = true;
    say(status, t('scheduler.starting', { title: s.title }));
    api<{ room: RoomInfo }>(`/api/rooms/${encodeURIComponent(s.id)}/start`, { method: 'POST', token }).then(
      () => say(status, t('scheduler.started', { title: s.title }), 'ok'),
      (error: unknown) => say(status, t('scheduler.startFailed', { why: errorText(error) }), 'error'),
    ).finally(() => void refresh());
  };

  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

function showRow(s: Show, token: string, start: (s: Show, button: HTMLButtonElement) => void): HTMLElement {
  const count = h('span', { class: 'muted small', 'data-testid': 'reminder-count' });
  setText(count, tn('scheduler.reminders', s.reminders));
  const late = s.state === 'scheduled' && s.startsAt !== undefined && Date.now() >= s.startsAt;
  const link = h('a', { href: `/streamer?token=${encodeURIComponent(token)}&room=${encodeURIComponent(s.id)}` }, s.title);
  if (late) {
    const button = h('button', { type: 'button', class: 'primary show-start', 'data-testid': 'start-late-show' }, t('scheduler.startNow'));
    button.addEventListener('click', () => start(s, button));
    return h('li', { class: 'show-item show-late', 'data-room': s.id, 'data-late': 'true' },
      link,
      h('span', { class: 'show-late-badge', 'data-testid': 'late-badge' }, t('scheduler.late', { time: formatShowTime(s.startsAt!) })),
      count,
      h('p', { class: 'muted small show-late-hint' }, t('scheduler.lateHint')),
      button,
    );
  }
  // Reminders are for a show still to come: a live show's count says nothing.
  if (s.state === 'live') return h('li', { class: 'show-item', 'data-room': s.id }, link, h('span', { class: 'badge', 'data-state': 'live' }, t('room.live')));
  return h('li', { class: 'show-item', 'data-room': s.id }, link, h('span', { class: 'muted small' }, formatShowTime(s.startsAt ?? s.createdAt, true)), count);
}

/** The token's user id (`sub`), read from its payload; the server checks the token, this only names the list to read. */
function subjectOf(token: string): string | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    const json = new TextDecoder().decode(bytes);
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** A date as a datetime-local input's value (local time, to the minute). */
function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
