/**
 * The room's moderation tools, for the streamer page and for a moderator on the viewer page:
 * moderators (the streamer appoints and removes them by user id), the keyword filter, the pinned
 * comment, and (for moderators; the streamer page has its own) the ban list with "Lift ban".
 * Everything goes through the SDK (`setModerator`, `setFilter`, `unpinComment`, `moderation`) and
 * the HTTP ban API; the list of moderators and the pinned comment follow the room's events.
 */
import type { HistoryComment, LivecartClient } from '../../src/index.ts';
import { api, errorText, h, say, setText, show } from './common.ts';
import { formatNumber, t, tn } from './i18n.ts';

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
    this.#noModerators = h('p', { class: 'muted' }, t('modp.noModerators'));
    this.#people = h('datalist', { id: 'moderation-people' });
    this.#appointInput = h('input', { id: 'appoint-user', list: 'moderation-people', maxlength: 128, placeholder: t('modp.userIdPlaceholder'), autocomplete: 'off', 'data-testid': 'appoint-user' });
    this.#filterInput = h('textarea', { id: 'filter-words', rows: 3, placeholder: t('modp.filterPlaceholder'), 'data-testid': 'filter-words' });
    this.#filterCount = h('span', { class: 'muted small', 'data-testid': 'filter-count' });
    this.#pinned = h('p', { class: 'muted', 'data-testid': 'pinned-comment-now' }, t('modp.noPinned'));
    this.#unpin = h('button', { type: 'button', class: 'link', hidden: true, 'data-testid': 'unpin-comment', onclick: () => this.#unpinComment() }, t('modp.unpin'));
    this.#bans = h('ul', { class: 'muted-list', 'data-testid': 'moderator-bans' });
    this.#noBans = h('p', { class: 'muted' }, t('modp.nobodyRemoved'));

    const appointForm = h('form', { class: 'row', autocomplete: 'off', onsubmit: (event: Event) => {
      event.preventDefault();
      this.#appoint();
    } }, this.#appointInput, this.#people, h('button', { type: 'submit', 'data-testid': 'appoint' }, t('modp.appoint')));
    const filterForm = h('form', { class: 'filter-form', onsubmit: (event: Event) => {
      event.preventDefault();
      this.#saveFilter();
    } }, h('label', { for: 'filter-words', class: 'small' }, t('modp.filterHint')), this.#filterInput, h('div', { class: 'row' }, h('button', { type: 'submit', 'data-testid': 'save-filter' }, t('modp.saveFilter')), this.#filterCount));

    this.element = h(
      'section',
      { class: 'moderation', 'aria-labelledby': 'moderation-title', 'data-testid': 'moderation' },
      h('h3', { id: 'moderation-title' }, t(options.owner ? 'modp.moderation' : 'modp.tools')),
      h('h4', {}, t('modp.pinnedTitle')),
      h('div', { class: 'row wrap' }, this.#pinned, this.#unpin),
      h('h4', {}, t('modp.filterTitle')),
      filterForm,
      h('h4', {}, t('modp.moderators')),
      options.owner ? h('p', { class: 'muted small' }, t('modp.moderatorsHint')) : null,
      this.#moderators,
      this.#noModerators,
      options.owner ? h('label', { for: 'appoint-user' }, t('modp.appointLabel')) : null,
      options.owner ? appointForm : null,
      options.owner ? null : h('h4', {}, t('modp.removedUsers')),
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
        this.#options.owner ? h('button', { type: 'button', class: 'link', 'aria-label': t('modp.removeModLabel', { name: m.name }), onclick: () => this.#setModerator(m.userId, m.name, false) }, t('modp.removeMod')) : null,
      )),
    );
    setText(this.#pinned, pinnedComment ? `${pinnedComment.name}: ${pinnedComment.text}` : t('modp.noPinned'));
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
    setText(this.#filterCount, this.#maxFilterWords > 0 ? t('modp.countOf', { n: formatNumber(count), max: formatNumber(this.#maxFilterWords) }) : t('modp.count', { n: formatNumber(count) }));
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
        say(this.#options.status, t(moderator ? 'modp.isModerator' : 'modp.noLongerModerator', { name }), 'ok');
      },
      (error: unknown) => say(this.#options.status, t('modp.moderatorsFailed', { why: errorText(error) }), 'error'),
    );
  }

  #saveFilter(): void {
    const words = parseFilterWords(this.#filterInput.value);
    this.#client.setFilter(words).then(
      ({ words: kept }) => {
        this.#filterInput.value = kept.join('\n');
        this.#renderCount(kept.length);
        say(this.#options.status, kept.length === 0 ? t('modp.filterCleared') : tn('modp.filterSaved', kept.length), 'ok');
      },
      (error: unknown) => say(this.#options.status, t('modp.filterFailed', { why: errorText(error) }), 'error'),
    );
  }

  #unpinComment(): void {
    this.#client.unpinComment().then(
      () => say(this.#options.status, t('modp.unpinned'), 'ok'),
      (error: unknown) => say(this.#options.status, t('modp.unpinFailed', { why: errorText(error) }), 'error'),
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
        h('button', { type: 'button', class: 'link', 'aria-label': t('modp.liftLabel', { name: ban.name }), onclick: () => {
          this.#client.unban(ban.userId).then(
            () => {
              say(this.#options.status, t('mod.mayComeBack', { name: ban.name }), 'ok');
              void this.#refreshBans();
            },
            (error: unknown) => say(this.#options.status, t('modp.liftFailed', { why: errorText(error) }), 'error'),
          );
        } }, t('modp.lift')),
      )),
    );
  }
}

/** A "Pin" button for a comment (streamer and moderators): pins it at the top of the room. */
export function pinCommentButton(client: LivecartClient, comment: HistoryComment, status: HTMLElement): HTMLButtonElement {
  return h('button', { type: 'button', class: 'link', 'aria-label': t('modp.pinLabel', { name: comment.name, text: comment.text }), 'data-testid': `pin-comment-${comment.seq}`, onclick: () => {
    client.pinComment(comment.seq).then(
      () => say(status, t('modp.pinned'), 'ok'),
      (error: unknown) => say(status, t('modp.pinFailed', { why: errorText(error) }), 'error'),
    );
  } }, t('modp.pin'));
}

/** Whether this client's user moderates the room (streamer, operator or appointed moderator). */
export function isModerating(client: LivecartClient): boolean {
  const you = client.state.you;
  if (you === undefined) return false;
  if (you.role === 'operator' || (you.role === 'streamer' && client.state.room?.streamerId === you.userId)) return true;
  return client.state.moderators.some((m) => m.userId === you.userId);
}
