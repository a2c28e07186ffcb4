/**
 * Shared helpers of the three pages: DOM building, formatting, countdowns, the HTTP API, and the
 * texts shown for the SDK's errors. Plain DOM, no framework; everything here runs in the browser.
 */
import { CloseCode, isLivecartError, type LivecartClient } from '../../src/index.ts';
import { errorTextKey } from './errorTexts.ts';
import { formatMoney, formatNumber as formatLocaleNumber, parseMoney, t } from './i18n.ts';

export const params = new URLSearchParams(location.search);

/** The element with this id; throws when the page lacks it (a page bug, caught at once). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el as T;
}

type Attrs = Record<string, string | number | boolean | undefined | null | ((event: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

/** `h('button', { type: 'button', onclick: fn }, 'Pin')`: an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

/** Sets text only when it changed (keeps screen readers and layout quiet). */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function show(el: HTMLElement, visible: boolean): void {
  if (el.hidden === visible) el.hidden = !visible;
}

/** A price in the page's language; `cents` in the currency's minor unit (see `formatMoney`). */
export function formatPrice(cents: number, currency = 'USD'): string {
  return formatMoney(cents, currency);
}

/** 75_000 → "1:15", 3_725_000 → "1:02:05"; negative → "0:00". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const hrs = Math.floor(total / 3600);
  const mm = hrs > 0 ? String(m).padStart(2, '0') : String(m);
  return `${hrs > 0 ? `${hrs}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export function seconds(ms: number): string {
  return t('unit.seconds', { n: Math.max(1, Math.ceil(ms / 1000)) });
}

export function formatNumber(n: number, digits = 0): string {
  return formatLocaleNumber(n, digits);
}

/** The server's clock as seen from here: `expiresAt`, `endsAt` and sale windows are server epoch ms. */
export class ServerClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  /** Estimates the offset from one `ping` round trip (half the round trip is assumed each way). */
  async calibrate(client: LivecartClient): Promise<void> {
    try {
      const sent = Date.now();
      const { now } = await client.ping();
      const received = Date.now();
      this.offsetMs = now - (sent + received) / 2;
    } catch {
      // Keep the local clock: the server runs on the same machine in development.
    }
  }
}

/**
 * One ticker for every countdown on the page: each element with `data-deadline` (epoch ms, on the
 * clock named by `data-clock`: "server" or "local") shows the time left, or `data-done` when it
 * passed. Countdown elements are never live regions: screen readers hear the status, not each tick.
 */
export function startCountdowns(clock: ServerClock, onTick?: () => void): void {
  const tick = () => {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-deadline]'))) {
      const deadline = Number(el.dataset.deadline);
      const now = el.dataset.clock === 'local' ? Date.now() : clock.now();
      const left = deadline - now;
      setText(el, left > 0 ? `${el.dataset.prefix ?? ''}${el.dataset.format === 'seconds' ? seconds(left) : formatDuration(left)}${el.dataset.suffix ?? ''}` : el.dataset.done ?? '0:00');
    }
    onTick?.();
  };
  tick();
  setInterval(tick, 500);
}

/** A countdown span (see `startCountdowns`); its first text is filled at once. */
export function countdown(deadline: number, clock: ServerClock, options: { prefix?: string; suffix?: string; done?: string; local?: boolean; format?: 'seconds' } = {}): HTMLSpanElement {
  const el = h('span', {
    class: 'countdown',
    'data-deadline': deadline,
    'data-clock': options.local ? 'local' : 'server',
    'data-prefix': options.prefix,
    'data-suffix': options.suffix,
    'data-done': options.done,
    'data-format': options.format,
  });
  const left = deadline - (options.local ? Date.now() : clock.now());
  el.textContent = left > 0 ? `${options.prefix ?? ''}${options.format === 'seconds' ? seconds(left) : formatDuration(left)}${options.suffix ?? ''}` : options.done ?? '0:00';
  return el;
}

export function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly errorName: string, message: string) {
    super(message);
  }
}

/** JSON over the server's HTTP API; non-2xx answers throw an `ApiError` with the server's message. */
export async function api<T = Record<string, unknown>>(path: string, options: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method: options.method ?? 'GET', headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { name?: string; message?: string } } | undefined)?.error;
    throw new ApiError(response.status, error?.name ?? String(response.status), error?.message ?? `HTTP ${response.status}`);
  }
  return body as T;
}

/**
 * A sentence for a failed request in the page's language, from the SDK's typed error or an HTTP
 * answer's error name (errorTexts.ts); the server's own message for a code not known here.
 */
export function errorText(error: unknown): string {
  if (isLivecartError(error)) {
    if (error.name === 'RATE_LIMITED') return t('error.rateLimited', { wait: seconds(error.retryAfterMs ?? 1000) });
    if (error.name === 'OVERLOADED' && error.retryAfterMs) return t('error.overloadedWait', { wait: seconds(error.retryAfterMs) });
    return codeText(error.name, error.message);
  }
  if (error instanceof ApiError) return codeText(error.errorName, error.message);
  if (error instanceof Error) return error.message;
  return String(error);
}

function codeText(name: string, message: string): string {
  const key = errorTextKey(name);
  return key === undefined ? message : t(key, { detail: message });
}

/** Puts `text` in a status element (a live region), marking it as an error or not. */
export function say(el: HTMLElement, text: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
  el.dataset.kind = kind;
  setText(el, text);
}

/**
 * Shows the connection state of `client` in `el` (a `role="status"` element, `data-state`):
 * connecting, connected, reconnecting (with the attempt), moved (the node is draining: on to
 * another), offline (the browser lost the network) or closed (with why). The stylesheet hides the
 * healthy state ("Connected" is there for screen readers and tests, not shown).
 */
export function trackConnection(client: LivecartClient, el: HTMLElement, onClosed?: (text: string, error: unknown) => void): void {
  const set = (state: string, text: string) => {
    el.dataset.state = state;
    setText(el, text);
  };
  /** What the socket said last; an offline browser overrides it until it is back online. */
  let last: [string, string] = ['connecting', t('conn.connecting')];
  const report = (state: string, text: string) => {
    last = [state, text];
    if (navigator.onLine !== false || state === 'closed') set(state, text);
  };
  report(...last);
  client.on('welcome', () => report('connected', t('conn.connected')));
  client.on('reconnecting', (e) => {
    if (e.code === CloseCode.MOVED) report('moved', t('conn.moved')); // this node is draining
    else report('reconnecting', e.attempt > 1 ? t('conn.reconnectingTry', { n: e.attempt }) : t('conn.reconnecting'));
  });
  client.on('closed', (e) => {
    const text = e.error ? t('conn.disconnectedWhy', { why: errorText(e.error) }) : t('conn.disconnected');
    report('closed', text);
    onClosed?.(text, e.error);
  });
  window.addEventListener('offline', () => {
    if (last[0] !== 'closed') set('offline', t('conn.offline'));
  });
  window.addEventListener('online', () => set(...last));
}

/** A full-page message for a page that cannot start (no token, server refused, …). */
export function fatal(message: string, detail?: string): void {
  const main = document.querySelector('main') ?? document.body;
  main.replaceChildren(h('section', { class: 'panel fatal', role: 'alert' }, h('h2', {}, t('page.cannotOpen')), h('p', {}, message), detail ? h('p', { class: 'muted' }, detail) : null));
  // No connection follows: a "Connecting…" state would say otherwise.
  document.getElementById('conn')?.setAttribute('hidden', '');
}

/** A placeholder product picture (an SVG with the title's initials) for products without `imageUrl`. */
export function placeholderImage(title: string, sku: string): string {
  let hash = 0;
  for (const c of sku) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  const initials = title.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]!.toUpperCase()).join('') || '?';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},70%,62%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360},70%,45%)"/></linearGradient></defs><rect width="120" height="120" rx="14" fill="url(#g)"/><text x="60" y="74" font-family="sans-serif" font-size="44" font-weight="700" fill="#fff" text-anchor="middle">${initials.replace(/[<&>"]/g, '')}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** Parses "25", "25.5", "25,50" as an integer amount in `currency`'s minor unit (cents for USD); NaN when not a price. */
export function parsePriceCents(text: string, currency = 'USD'): number {
  return parseMoney(text, currency);
}
