/**
 * A sheet: a panel that slides up from the bottom of a phone's screen over the page (on wide
 * screens a side panel, or the element's own place in the page), with a grip to drag it down, a
 * backdrop that closes it, Escape, and focus moved in and back. Used for the viewer's cart and the
 * streamer's products; any page's panel can be one:
 *
 *   const sheet = new Sheet(byId('cart'), { opener: byId('cart-button'), focus: byId('cart-title') });
 *   openerButton.onclick = () => sheet.toggle();
 *
 *   const built = Sheet.create({ id: 'products-sheet', title: 'Products', testId: 'products-sheet' });
 *   built.body.append(…);   // a new sheet, appended to <body>, with a heading and a close button
 *
 * Styles: src/sheet.css (link it in the page). A closed sheet is `hidden` (a sheet made with
 * `when` is only a sheet while that media query matches; otherwise it stays in the page as it was
 * and `open()`/`close()` do nothing visible).
 */
import { h } from './common.ts';

export interface SheetOptions {
  /** The control that opens it: `aria-expanded` follows the sheet, and focus returns there on close. */
  opener?: HTMLElement | undefined;
  /** What takes focus when it opens (default: the sheet itself). */
  focus?: HTMLElement | undefined;
  /** A media query: a sheet only while it matches (e.g. '(max-width: 899px)'), else left in the page. */
  when?: string | undefined;
  /** On wide screens: 'side' (a panel at the right, the default) or 'bottom'. */
  wide?: 'side' | 'bottom' | undefined;
  /** Called after it opened or closed. */
  onChange?: ((open: boolean) => void) | undefined;
}

/** Sheets open now, the latest last (Escape and the backdrop close the latest). */
const openSheets: Sheet[] = [];
let backdrop: HTMLElement | undefined;

function sharedBackdrop(): HTMLElement {
  if (backdrop === undefined) {
    backdrop = h('div', { class: 'sheet-backdrop', hidden: true, 'aria-hidden': 'true' });
    backdrop.addEventListener('click', () => openSheets.at(-1)?.close());
    document.body.append(backdrop);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && openSheets.length > 0) {
        event.preventDefault();
        openSheets.at(-1)?.close();
      }
    });
  }
  return backdrop;
}

/** Drags beyond this many pixels down close the sheet. */
const DRAG_CLOSE_PX = 80;

export class Sheet {
  readonly element: HTMLElement;
  readonly #options: SheetOptions;
  readonly #media: MediaQueryList | undefined;
  #open = false;

  /** A new sheet with a heading and a close button, appended to <body>; fill `body`. */
  static create(init: { id: string; title: string; testId?: string; closeLabel?: string } & SheetOptions): Sheet & { body: HTMLElement } {
    const titleId = `${init.id}-title`;
    const close = h('button', { type: 'button', class: 'ghost sheet-close', 'aria-label': init.closeLabel ?? '✕' }, '✕');
    const body = h('div', { class: 'sheet-body' });
    const element = h('aside', { id: init.id, role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'data-testid': init.testId },
      h('div', { class: 'sheet-head' }, h('h2', { id: titleId, tabindex: -1 }, init.title), close),
      body,
    );
    element.hidden = true;
    document.body.append(element);
    const sheet = new Sheet(element, { ...init, focus: init.focus ?? element.querySelector<HTMLElement>('h2') ?? undefined }) as Sheet & { body: HTMLElement };
    sheet.body = body;
    close.addEventListener('click', () => sheet.close());
    return sheet;
  }

  constructor(element: HTMLElement, options: SheetOptions = {}) {
    this.element = element;
    this.#options = options;
    this.#media = options.when === undefined ? undefined : matchMedia(options.when);
    sharedBackdrop();
    element.prepend(this.#grip());
    this.#media?.addEventListener('change', () => this.#apply());
    this.#apply();
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Whether the element is a sheet now (always, unless `when` is given and does not match). */
  get active(): boolean {
    return this.#media?.matches ?? true;
  }

  open(): void {
    if (this.#open) return;
    this.#open = true;
    openSheets.push(this);
    this.#apply();
    (this.#options.focus ?? this.element).focus({ preventScroll: true });
    this.#options.onChange?.(true);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    openSheets.splice(openSheets.indexOf(this), 1);
    const hadFocus = this.element.contains(document.activeElement);
    this.#apply();
    if (hadFocus || document.activeElement === document.body) this.#options.opener?.focus({ preventScroll: true });
    this.#options.onChange?.(false);
  }

  toggle(open = !this.#open): void {
    if (open) this.open();
    else this.close();
  }

  /** Renders the state: classes, visibility, the opener's aria-expanded, the backdrop, the page's scroll lock. */
  #apply(): void {
    const el = this.element;
    const active = this.active;
    el.classList.toggle('sheet', active);
    el.classList.toggle('sheet-side', active && (this.#options.wide ?? 'side') === 'side');
    if (this.#media === undefined) el.hidden = !this.#open;
    else el.classList.toggle('sheet-closed', active && !this.#open);
    if (!el.hasAttribute('tabindex')) el.tabIndex = -1;
    this.#options.opener?.setAttribute('aria-expanded', String(this.#open && active));
    const anyOpen = openSheets.some((s) => s.active);
    sharedBackdrop().hidden = !anyOpen;
    document.body.classList.toggle('sheet-open', anyOpen);
  }

  /** The grip at the top: drag down to close (a tap on it closes too). */
  #grip(): HTMLElement {
    const grip = h('div', { class: 'sheet-grip', 'aria-hidden': 'true' });
    let startY: number | undefined;
    grip.addEventListener('pointerdown', (event) => {
      startY = event.clientY;
      grip.setPointerCapture(event.pointerId);
    });
    grip.addEventListener('pointermove', (event) => {
      if (startY === undefined) return;
      this.element.style.transform = `translateY(${Math.max(0, event.clientY - startY)}px)`;
    });
    const end = (event: PointerEvent) => {
      if (startY === undefined) return;
      const moved = event.clientY - startY;
      startY = undefined;
      this.element.style.transform = '';
      if (moved > DRAG_CLOSE_PX || Math.abs(moved) < 4) this.close();
    };
    grip.addEventListener('pointerup', end);
    grip.addEventListener('pointercancel', () => {
      startY = undefined;
      this.element.style.transform = '';
    });
    return grip;
  }
}
