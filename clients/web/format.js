// format.js — times, durations and labels for the clinical pages, in the
// page's language. The API speaks ISO 8601 UTC; people read local time.

import { t, hasKey, getLocale } from './i18n.js';

const fmt = (opts) => new Intl.DateTimeFormat(getLocale(), opts);

/** "Mon 24 Nov, 09:30" (local time). */
export function dateTime(iso) {
  if (!iso) return '';
  return fmt({ weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** "09:30" (local time). */
export function time(iso) {
  return iso ? fmt({ hour: '2-digit', minute: '2-digit' }).format(new Date(iso)) : '';
}

/** "Monday 24 November" (local date). */
export function day(iso) {
  return iso ? fmt({ weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(iso)) : '';
}

/** "09:30–10:00" */
export function timeRange(from, to) {
  return `${time(from)}–${time(to)}`;
}

/** The local calendar date of @date as YYYY-MM-DD (what date inputs and the API's ?date= take). */
export function isoDate(date = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
}

/** YYYY-MM-DD plus @n days. */
export function addDays(ymd, n) {
  const [y, m, d] = ymd.split('-').map(Number);
  return isoDate(new Date(y, m - 1, d + n));
}

/** Seconds as "m:ss" or "h:mm:ss". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const p = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${p(m)}:${p(s % 60)}` : `${m}:${p(s % 60)}`;
}

/** A translated label for @value under @prefix ("status.booked"), or the value itself. */
export function label(prefix, value) {
  const key = `${prefix}.${value}`;
  return hasKey(key) ? t(key) : String(value ?? '');
}

/** "1.2 MB" */
export function bytes(n) {
  if (n < 1024) return t('unit.bytes', { n });
  if (n < 1024 * 1024) return t('unit.kib', { n: (n / 1024).toFixed(n < 10240 ? 1 : 0) });
  return t('unit.mib', { n: (n / 1048576).toFixed(1) });
}

/** Creates an element with @text and optional class and attributes. */
export function el(tag, { text, cls, attrs } = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  return e;
}

/** A button with a translated label; @testid becomes data-testid. */
export function button(key, { cls = 'btn small', testid, params, onClick } = {}) {
  const b = el('button', { text: t(key, params), cls, attrs: { type: 'button', 'data-testid': testid } });
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

/** Saves @blob as @name through a temporary object URL. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { attrs: { href: url, download: name } });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
