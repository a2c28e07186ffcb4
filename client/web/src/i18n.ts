/**
 * The pages' languages: English and Simplified Chinese (zh-CN). Every user-visible string goes
 * through `t(key)`; the dictionaries are `locales/en.ts` (the keys and the English text) and
 * `locales/zh-CN.ts` (typed against the English one, so a missing translation does not compile).
 *
 * The language: the one picked on a page (kept in localStorage), else the first of the browser's
 * `navigator.languages` we have (any `zh` → zh-CN), else English. `<html lang>` follows it.
 * Static text in the HTML carries `data-i18n="key"` (and `data-i18n-label`, `-placeholder`,
 * `-title` for those attributes); `translatePage()` fills it in.
 *
 * Money, numbers and dates are formatted here too, for the page's language: `formatMoney` is the one
 * price formatter (integer minor units in, e.g. cents; the currency's own digits from Intl).
 */
import { en } from './locales/en.ts';
import { zhCN } from './locales/zh-CN.ts';

export type Locale = 'en' | 'zh-CN';
export type MessageKey = keyof typeof en;
export type Vars = Readonly<Record<string, string | number>>;

const dictionaries: Readonly<Record<Locale, Readonly<Record<MessageKey, string>>>> = { en, 'zh-CN': zhCN };

/** The languages offered by the picker, each named in itself. */
export const LOCALES: readonly { id: Locale; name: string }[] = [
  { id: 'en', name: 'English' },
  { id: 'zh-CN', name: '中文' },
];

const STORAGE_KEY = 'livecart.lang';

/** The first supported language among `stored` (the picker's choice) and the browser's `languages`. */
export function chooseLocale(stored: string | null, languages: readonly string[]): Locale {
  if (stored === 'en' || stored === 'zh-CN') return stored;
  for (const tag of languages) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

function storedChoice(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage off (private mode, sandbox): the browser's language then
  }
}

let current: Locale = chooseLocale(storedChoice(), typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language]);

export function locale(): Locale {
  return current;
}

/** The text for `key` in the page's language, with `{name}` placeholders filled from `vars`. */
export function t(key: MessageKey, vars?: Vars): string {
  const text = dictionaries[current][key] ?? en[key] ?? key;
  if (vars === undefined) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/**
 * A counted text: `tn('cart.items', 3)` reads `cart.items.one` or `cart.items.other` (the
 * language's plural rule) with `{n}` set to the number, formatted.
 */
export function tn(base: string, n: number, vars?: Vars): string {
  const rule = plurals().select(n);
  const key = (`${base}.${rule}` in en ? `${base}.${rule}` : `${base}.other`) as MessageKey;
  return t(key, { n: formatNumber(n), ...vars });
}

/** Picks a language for this browser (kept across reloads and pages) and applies it. */
export function setLocale(next: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not kept: this page still switches.
  }
  current = next;
  formats.clear();
}

/** Fills the page's static text (`data-i18n*` attributes) and sets `<html lang>`. */
export function translatePage(root: ParentNode = document): void {
  document.documentElement.lang = current;
  for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-i18n]'))) el.textContent = t(el.dataset.i18n as MessageKey);
  for (const [data, attr] of [['i18nLabel', 'aria-label'], ['i18nPlaceholder', 'placeholder'], ['i18nTitle', 'title']] as const) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const el of Array.from(root.querySelectorAll<HTMLElement>(selector))) el.setAttribute(attr, t(el.dataset[data] as MessageKey));
  }
}

/**
 * The language picker: a labelled <select> (data-testid="language"). Choosing reloads the page in
 * that language (the page's state lives on the server and in this tab's storage: same user, same cart).
 */
export function languagePicker(): HTMLElement {
  const select = document.createElement('select');
  select.className = 'lang-select';
  select.dataset.testid = 'language';
  select.setAttribute('aria-label', t('lang.label'));
  for (const { id, name } of LOCALES) {
    const option = new Option(name, id, id === current, id === current);
    option.lang = id;
    select.append(option);
  }
  select.addEventListener('change', () => {
    setLocale(select.value as Locale);
    location.reload();
  });
  const wrap = document.createElement('span');
  wrap.className = 'lang-picker';
  wrap.append(select);
  return wrap;
}

/** Translates the page and puts the picker at the end of its top bar: the one call a page makes at start. */
export function startI18n(): void {
  translatePage();
  const bar = document.querySelector('.topbar');
  if (bar !== null && bar.querySelector('.lang-picker') === null) bar.append(languagePicker());
}

// ------------------------------------------------------------------ formats

const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules>();

function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules>(id: string, make: () => T): T {
  let format = formats.get(id) as T | undefined;
  if (format === undefined) {
    format = make();
    formats.set(id, format);
  }
  return format;
}

function plurals(): Intl.PluralRules {
  return cached('plural', () => new Intl.PluralRules(current));
}

/**
 * A price: `minor` is an integer count of the currency's minor unit (cents for USD, fen for CNY,
 * yen for JPY: Intl knows each currency's digits), shown the way the page's language writes it
 * ("$12.00" in English, "US$12.00" in Chinese, "¥12.00" for CNY). A code Intl does not know gets
 * two decimals; a string that is no currency code shows the amount with two decimals and the string.
 */
export function formatMoney(minor: number, currency = 'USD'): string {
  let format: Intl.NumberFormat;
  try {
    format = cached(`money:${currency}`, () => new Intl.NumberFormat(current, { style: 'currency', currency }));
  } catch {
    return `${cached('money:?', () => new Intl.NumberFormat(current, { minimumFractionDigits: 2, maximumFractionDigits: 2 })).format(minor / 100)} ${currency}`;
  }
  return format.format(minor / 10 ** currencyDigits(currency));
}

/** The digits of a currency's minor unit (USD 2, JPY 0, BHD 3), from Intl; 2 for a code Intl cannot take. */
export function currencyDigits(currency: string): number {
  try {
    return cached(`digits:${currency}`, () => new Intl.NumberFormat('en', { style: 'currency', currency })).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * A price typed by a person ("25", "25.5", "25,50") as an integer amount in the currency's minor
 * unit (2500 for USD, 25 for JPY); NaN when it is not a price in that currency (too many decimals).
 */
export function parseMoney(text: string, currency = 'USD'): number {
  const digits = currencyDigits(currency);
  const normalized = text.trim().replace(',', '.');
  const pattern = digits === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`);
  if (!pattern.test(normalized)) return Number.NaN;
  return Math.round(Number(normalized) * 10 ** digits);
}

export function formatNumber(n: number, digits = 0): string {
  return cached(`number:${digits}`, () => new Intl.NumberFormat(current, { maximumFractionDigits: digits, minimumFractionDigits: 0 })).format(n);
}

/** A date and time ("6 Dec 2026, 22:40" / "2026年12月6日 22:40"). */
export function formatDateTime(ms: number): string {
  return cached('datetime', () => new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' })).format(ms);
}

/** A time of day ("22:40:05"). */
export function formatTime(ms: number): string {
  return cached('time', () => new Intl.DateTimeFormat(current, { timeStyle: 'medium' })).format(ms);
}

/** A show's start, short ("Fri, Dec 11, 08:00 PM" / "12月11日周五 20:00"); `weekday` adds the day's name. */
export function formatShowTime(ms: number, weekday = false): string {
  return cached(`show:${weekday}`, () => new Intl.DateTimeFormat(current, { ...(weekday ? { weekday: 'short' } : {}), month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })).format(ms);
}
