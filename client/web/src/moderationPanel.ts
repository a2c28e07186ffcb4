/**
 * The room's moderation tools, for the streamer page and for a moderator on the viewer page:
 * moderators (the streamer appoints and removes them by user id), the keyword filter, the pinned
 * comment, and (for moderators; the streamer page has its own) the ban list with "Lift ban".
 * Everything goes through the SDK (`setModerator`, `setFilter`, `unpinComment`, `moderation`) and
 * the HTTP ban API; the list of moderators and the pinned comment follow the room's events.
 */
import type { HistoryComment, LivecartClient } from '../../src/index.ts';
import { api, errorText, h, say, setText, show } from './common.ts';

export interface ModerationPanelOptions {
  /** The streamer's page: may appoint moderators; its ban list is its own. */
  owner: boolean;
  token: string;
  roomId: string;
  /** The page's status line. */
  status: HTMLElement;
}

interface Ban {
  userId: string;
  name: string;
  until: number;
}

/** Splits what was typed into words: one per line or comma (full-width commas too). */
export function parseFilterWords(text: string): string[] {
  return text.split(/[\n,，、]/).map((w) => w.trim()).filter((w) => w.length > 0);
}

export class ModerationPanel {
  readonly element: HTMLElement;
  readonly #client: LivecartClient;
  readonly #options: ModerationPanelOptions;
  readonly #moderators: HTMLUListElement;
  readonly #noModerators: HTMLElement;
  readonly #appointInput: HTMLInputElement;
  readonly #people: HTMLDataListElement;
  readonly #filterInput: HTMLTextAreaElement;
  readonly #filterCount: HTMLElement;
  readonly #pinned: HTMLElement;
  readonly #unpin: HTMLButtonElement;
  readonly #bans: HTMLUListElement;
  readonly #noBans: HTMLElement;
  #maxFilterWords = 0;

  constructor(client: LivecartClient, options: ModerationPanelOptions) {
    this.#client = client;
    this.#options = options;
    this.#moderators = h('ul', { class: 'muted-list', 'data-testid': 'moderators' });
    this.#noModerators = h('p', { class: 'muted' }, 'No moderators yet.');
    this.#people = h('datalist', { id: 'moderation-people' });
    this.#appointInput = h('input', { id: 'appoint-user', list: 'moderation-people', maxlength: 128, placeholder: 'user id', autocomplete: 'off', 'data-testid': 'appoint-user' });
    this.#filterInput = h('textarea', { id: 'filter-words', rows: 3, placeholder: 'One word per line (or separated by commas)', 'data-testid': 'filter-words' });
    this.#filterCount = h('span', { class: 'muted small', 'data-testid': 'filter-count' });
    this.#pinned = h('p', { class: 'muted', 'data-testid': 'pinned-comment-now' }, 'No pinned comment.');
    this.#unpin = h('button', { type: 'button', class: 'link', hidden: true, 'data-testid': 'unpin-comment', onclick: () => this.#unpinComment() }, 'Unpin');
    this.#bans = h('ul', { class: 'muted-list', 'data-testid': 'moderator-bans' });
    this.#noBans = h('p', { class: 'muted' }, 'Nobody is removed.');

    const appointForm = h('form', { class: 'row', autocomplete: 'off', onsubmit: (event: Event) => {
      event.preventDefault();
      this.#appoint();
    } }, this.#appointInput, this.#people, h('button', { type: 'submit', 'data-testid': 'appoint' }, 'Appoint'));
    const filterForm = h('form', { class: 'filter-form', onsubmit: (event: Event) => {
      event.preventDefault();
      this.#saveFilter();
    } }, h('label', { for: 'filter-words', class: 'small' }, 'Comments with these words are not shown to anyone (any case; Chinese too).'), this.#filterInput, h('div', { class: 'row' }, h('button', { type: 'submit', 'data-testid': 'save-filter' }, 'Save filter'), this.#filterCount));

    this.element = h(
      'section',
      { class: 'moderation', 'aria-labelledby': 'moderation-title', 'data-testid': 'moderation' },
      h('h3', { id: 'moderation-title' }, options.owner ? 'Moderation' : 'Moderator tools'),
      h('h4', {}, 'Pinned comment'),
      h('div', { class: 'row wrap' }, this.#pinned, this.#unpin),
      h('h4', {}, 'Keyword filter'),
      filterForm,
      h('h4', {}, 'Moderators'),
      options.owner ? h('p', { class: 'muted small' }, 'Moderators may delete comments, mute, remove and let back in, pin a comment and set the filter; not add products or end the show.') : null,
      this.#moderators,
      this.#noModerators,
      options.owner ? h('label', { for: 'appoint-user' }, 'Appoint a moderator (a commenter, or a user id)') : null,
      options.owner ? appointForm : null,
      options.owner ? null : h('h4', {}, 'Removed users'),
      options.owner ? null : this.#bans,
      options.owner ? null : this.#noBans,
    );

    for (const event of ['welcome', 'moderators', 'commentPinned'] as const) client.on(event, () => this.render());
    client.on('comment', () => this.#renderPeople());
    client.on('welcome', () => void this.refresh());
  }

  /** Reads the filter (and the bans, for a moderator) afresh from the server. */
  async refresh(): Promise<void> {
    try {
      const state = await this.#client.moderation();
      this.#maxFilterWords = state.maxFilterWords;
      if (document.activeElement !== this.#filterInput) this.#filterInput.value = state.filterWords.join('\n');
      this.#renderCount(state.filterWords.length);
      if (!this.#options.owner) await this.#refreshBans();
    } catch (error) {
      // A viewer who is no moderator (any more) is refused: the panel is hidden then.
      console.warn('livecart: moderation', error);
    }
  }

  render(): void {
    const { moderators, pinnedComment } = this.#client.state;
    show(this.#noModerators, moderators.length === 0);
    this.#moderators.replaceChildren(
      ...moderators.map((m) => h(
        'li',
        { 'data-user': m.userId },
        h('span', { class: 'who' }, m.name),
        m.name === m.userId ? null : h('span', { class: 'muted small' }, ` ${m.userId}`),
        ' ',
        this.#options.owner ? h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${m.name} as moderator`, onclick: () => this.#setModerator(m.userId, m.name, false) }, 'Remove') : null,
      )),
    );
    setText(this.#pinned, pinnedComment ? `${pinnedComment.name}: ${pinnedComment.text}` : 'No pinned comment.');
    show(this.#unpin, pinnedComment !== null);
    this.#renderPeople();
  }

  /** The commenters as suggestions for the appoint field ("Name" → their user id). */
  #renderPeople(): void {
    if (!this.#options.owner) return;
    const seen = new Map<string, string>();
    for (const c of this.#client.state.comments) if (c.userId !== this.#client.state.you?.userId) seen.set(c.userId, c.name);
    const key = [...seen.keys()].join(',');
    if (this.#people.dataset.key === key) return;
    this.#people.dataset.key = key;
    this.#people.replaceChildren(...[...seen].map(([userId, name]) => h('option', { value: userId }, name)));
  }

  #renderCount(count: number): void {
    setText(this.#filterCount, this.#maxFilterWords > 0 ? `${count} of ${this.#maxFilterWords} words` : `${count} words`);
  }

  #appoint(): void {
    const userId = this.#appointInput.value.trim();
    if (!userId) return;
    const name = this.#client.state.comments.find((c) => c.userId === userId)?.name ?? userId;
    this.#setModerator(userId, name, true);
  }

  #setModerator(userId: string, name: string, moderator: boolean): void {
    this.#client.setModerator(userId, moderator).then(
      () => {
        if (moderator) this.#appointInput.value = '';
        say(this.#options.status, moderator ? `${name} is a moderator now.` : `${name} is no longer a moderator.`, 'ok');
      },
      (error: unknown) => say(this.#options.status, `Could not change moderators: ${errorText(error)}`, 'error'),
    );
  }

  #saveFilter(): void {
    const words = parseFilterWords(this.#filterInput.value);
    this.#client.setFilter(words).then(
      ({ words: kept }) => {
        this.#filterInput.value = kept.join('\n');
        this.#renderCount(kept.length);
        say(this.#options.status, kept.length === 0 ? 'Keyword filter cleared.' : `Keyword filter saved: ${kept.length} ${kept.length === 1 ? 'word' : 'words'}.`, 'ok');
      },
      (error: unknown) => say(this.#options.status, `Could not save the filter: ${errorText(error)}`, 'error'),
    );
  }

  #unpinComment(): void {
    this.#client.unpinComment().then(
      () => say(this.#options.status, 'Comment unpinned.', 'ok'),
      (error: unknown) => say(this.#options.status, `Could not unpin: ${errorText(error)}`, 'error'),
    );
  }

  async #refreshBans(): Promise<void> {
    const { bans } = await api<{ bans: Ban[] }>(`/api/rooms/${encodeURIComponent(this.#options.roomId)}/bans`, { token: this.#options.token });
    show(this.#noBans, bans.length === 0);
    this.#bans.replaceChildren(
      ...bans.map((ban) => h(
        'li',
        { 'data-user': ban.userId },
        h('span', { class: 'who' }, ban.name),
        ' ',
        h('button', { type: 'button', class: 'link', 'aria-label': `Lift the ban of ${ban.name}`, onclick: () => {
          this.#client.unban(ban.userId).then(
            () => {
              say(this.#options.status, `${ban.name} may come back.`, 'ok');
              void this.#refreshBans();
            },
            (error: unknown) => say(this.#options.status, `Could not lift the ban: ${errorText(error)}`, 'error'),
          );
        } }, 'Lift ban'),
      )),
    );
  }
}

/** A "Pin" button for a comment (streamer and moderators): pins it at the top of the room. */
export function pinCommentButton(client: LivecartClient, comment: HistoryComment, status: HTMLElement): HTMLButtonElement {
  return h('button', { type: 'button', class: 'link', 'aria-label': `Pin comment by ${comment.name}: ${comment.text}`, 'data-testid': `pin-comment-${comment.seq}`, onclick: () => {
    client.pinComment(comment.seq).then(
      () => say(status, 'Comment pinned.', 'ok'),
      (error: unknown) => say(status, `Could not pin: ${errorText(error)}`, 'error'),
    );
  } }, 'Pin');
}

/** Whether this client's user moderates the room (streamer, operator or appointed moderator). */
export function isModerating(client: LivecartClient): boolean {
  const you = client.state.you;
  if (you === undefined) return false;
  if (you.role === 'operator' || (you.role === 'streamer' && client.state.room?.streamerId === you.userId)) return true;
  return client.state.moderators.some((m) => m.userId === you.userId);
}
