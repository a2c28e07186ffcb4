/**
 * The web pages' language module (client/web/src/i18n.ts) in Node: which language a browser gets,
 * the dictionaries' placeholders, counted texts, and prices in the currency's own minor units.
 */
import { describe, expect, it } from 'vitest';
import { chooseLocale, formatMoney, locale, parseMoney, setLocale, t, tn } from '../../client/web/src/i18n.ts';
import { en } from '../../client/web/src/locales/en.ts';
import { zhCN } from '../../client/web/src/locales/zh-CN.ts';

describe('the pages\' languages', () => {
  it('takes the picker\'s choice, else the first language of the browser it has, else English', () => {
    expect(chooseLocale('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(chooseLocale('en', ['zh-CN'])).toBe('en');
    expect(chooseLocale(null, ['zh-TW', 'en'])).toBe('zh-CN');
    expect(chooseLocale(null, ['fr-FR', 'en-GB', 'zh-CN'])).toBe('en');
    expect(chooseLocale(null, ['de-DE'])).toBe('en');
    expect(chooseLocale('klingon', [])).toBe('en');
  });

  it('has every key in both languages, each Chinese text with the English one\'s placeholders', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) expect(placeholders(zhCN[key]), key).toEqual(placeholders(en[key]));
  });

  it('fills placeholders and picks the counted form by the language\'s plural rule', () => {
    setLocale('en');
    expect(locale()).toBe('en');
    expect(t('cart.held', { title: 'Mug', n: 2 })).toBe('Mug: 2 held for you.');
    expect(tn('cart.buttonLabel', 1)).toBe('Cart, 1 item');
    expect(tn('cart.buttonLabel', 1200)).toBe('Cart, 1,200 items');
    setLocale('zh-CN');
    expect(t('card.left', { n: 3 })).toBe('剩余 3 件');
    expect(tn('cart.buttonLabel', 1)).toBe('购物车，1 件商品');
    setLocale('en');
  });

  it('writes prices for the page\'s language in the product\'s currency, from integer minor units', () => {
    setLocale('en');
    expect(formatMoney(1200, 'USD')).toBe('$12.00');
    expect(formatMoney(1999, 'EUR')).toBe('€19.99');
    expect(formatMoney(1200, 'JPY')).toBe('¥1,200'); // the yen has no minor unit
    setLocale('zh-CN');
    expect(formatMoney(1200, 'USD')).toBe('US$12.00');
    expect(formatMoney(1200, 'CNY')).toBe('¥12.00');
    expect(formatMoney(123456, 'CNY')).toBe('¥1,234.56');
    expect(formatMoney(1200, 'XQQ').replace(/\s/g, ' ')).toBe('XQQ 12.00'); // a code Intl does not know: two digits
    expect(formatMoney(1200, 'bad!')).toBe('12.00 bad!'); // not a currency code at all
    setLocale('en');
  });

  it('reads a typed price in the currency\'s minor unit', () => {
    expect(parseMoney('25', 'USD')).toBe(2500);
    expect(parseMoney('25,5', 'USD')).toBe(2550);
    expect(parseMoney('19.99', 'CNY')).toBe(1999);
    expect(parseMoney('1200', 'JPY')).toBe(1200);
    expect(parseMoney('12.5', 'JPY')).toBeNaN(); // the yen has no decimals
    expect(parseMoney('1.234', 'BHD')).toBe(1234);
    expect(parseMoney('1.234', 'USD')).toBeNaN();
    expect(parseMoney('abc', 'USD')).toBeNaN();
  });
});
