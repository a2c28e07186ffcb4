/**
 * Moderation on the viewer page: the room's pinned comment (everyone sees it above the comments),
 * and, for a viewer the streamer appointed as moderator, actions on each comment (pin, delete,
 * mute, remove) and the moderator tools (filter, pinned comment, ban list with "Lift ban").
 * Self-contained: it reads the comment list's items (`li[data-seq][data-user]`) and follows the
 * client's events, so viewer.ts only mounts it.
 */
import type { HistoryComment, LivecartClient } from '../../src/index.ts';
import { errorText, h, say, setText, show } from './common.ts';
import { t, type MessageKey } from './i18n.ts';
import { isModerating, ModerationPanel, pinCommentButton } from './moderationPanel.ts';

export interface ViewerModerationOptions {
  /** The page's comment list. */
  comments: HTMLOListElement;
  token: string;
  roomId: string;
  /** Where moderation outcomes are told. */
  status: HTMLElement;
}

export function mountViewerModeration(client: LivecartClient, options: ViewerModerationOptions): void {
  const { comments, status } = options;
  const banner = h('aside', { class: 'pinned-comment', 'aria-label': t('modp.pinnedTitle'), 'data-testid': 'pinned-comment', hidden: true },
    h('span', { class: 'pin-mark', 'aria-hidden': 'true' }, '📌'), ' ', h('span', { class: 'who' }), ' ', h('span', { class: 'text' }));
  comments.before(banner); // in the comments' stack: directly above the newest comments
  const renderBanner = () => {
    const pinned = client.state.pinnedComment;
    show(banner, pinned !== null);
    setText(banner.querySelector<HTMLElement>('.who')!, pinned?.name ?? '');
    setText(banner.querySelector<HTMLElement>('.text')!, pinned?.text ?? '');
  };
  for (const event of ['welcome', 'commentPinned'] as const) client.on(event, renderBanner);

  let panel: ModerationPanel | undefined;
  const renderTools = () => {
    // The streamer and operators moderate from the streamer page; this is for appointed moderators.
    const moderating = isModerating(client) && client.state.you?.role === 'viewer';
    comments.classList.toggle('moderating', moderating);
    for (const li of Array.from(comments.querySelectorAll<HTMLLIElement>('li[data-seq]'))) decorate(li, moderating);
    if (moderating && panel === undefined) {
      panel = new ModerationPanel(client, { owner: false, token: options.token, roomId: options.roomId, status });
      (comments.closest('.chat') ?? comments.parentElement)?.append(panel.element);
      panel.render();
      void panel.refresh();
    }
    if (panel !== undefined) show(panel.element, moderating);
  };
  const decorate = (li: HTMLLIElement, moderating: boolean) => {
    li.querySelector('.mod-actions')?.remove();
    if (!moderating) return;
    const seq = Number(li.dataset.seq);
    const comment = client.state.comments.find((c) => c.seq === seq);
    if (comment === undefined) return;
    li.append(actionsFor(client, comment, status, () => void panel?.refresh()));
  };
  for (const event of ['welcome', 'moderators'] as const) client.on(event, renderTools);
  client.on('comment', (c) => {
    const li = comments.querySelector<HTMLLIElement>(`li[data-seq="${c.seq}"]`);
    if (li !== null) decorate(li, comments.classList.contains('moderating'));
  });
}

/** Pin, delete, mute and remove for one comment; `changed` after each (the ban list may have grown). */
function actionsFor(client: LivecartClient, c: HistoryComment, status: HTMLElement, changed: () => void): HTMLElement {
  const mine = c.userId === client.state.you?.userId;
  const run = (failed: MessageKey, action: () => Promise<unknown>, done: string) => () => {
    action().then(() => {
      say(status, done, 'ok');
      changed();
    }, (error: unknown) => say(status, t(failed, { why: errorText(error) }), 'error'));
  };
  return h(
    'span',
    { class: 'actions mod-actions' },
    pinCommentButton(client, c, status),
    h('button', { type: 'button', class: 'link', 'aria-label': t('mod.deleteLabel', { name: c.name, text: c.text }), onclick: run('mod.deleteFailed', () => client.deleteComment(c.seq), t('mod.deleted')) }, t('mod.delete')),
    mine ? null : h('button', { type: 'button', class: 'link', 'aria-label': t('mod.muteLabel', { name: c.name }), onclick: run('modp.muteFailed', () => client.mute(c.userId), t('mod.muted', { name: c.name })) }, t('mod.mute')),
    mine ? null : h('button', { type: 'button', class: 'link danger-link', 'aria-label': t('mod.removeLabel', { name: c.name }), onclick: run('modp.removeFailed', () => client.kick(c.userId), t('mod.removed', { name: c.name })) }, t('modp.remove')),
  );
}
