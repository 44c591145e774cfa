// slots.js — free slots of a doctor, fetched for a date range and shown as
// buttons grouped by day, on the page or in a dialog. Used to book, to
// reschedule and to schedule a referral's consultation.

import { t } from './i18n.js';
import * as api from './api.js';
import { day, time, label, el, addDays } from './format.js';
import { openDialog } from './dialog.js';

/** Free slots of doctor @id from @from for @days days (YYYY-MM-DD, the server's dates). */
export async function freeSlots(id, from, days = 7) {
  const r = await api.get(`/doctors/${id}/slots`, { from, to: addDays(from, days - 1) });
  return r.items.filter((s) => s.status === 'free' && Date.parse(s.starts_at) > Date.now());
}

/**
 * Fills @container with @slots as buttons (data-testid="slot", data-slot=id)
 * grouped by local day; @onPick(slot) runs on a press and the pressed one is
 * marked aria-pressed.
 */
export function renderSlots(container, slots, onPick) {
  container.replaceChildren();
  if (!slots.length) {
    container.append(el('p', { text: t('slots.none'), cls: 'help', attrs: { 'data-testid': 'no-slots' } }));
    return;
  }
  const byDay = new Map();
  for (const s of slots) {
    const k = day(s.starts_at);
    if (!byDay.has(k)) byDay.set(k, []);
    byDay.get(k).push(s);
  }
  for (const [name, list] of byDay) {
    const group = el('div', { cls: 'slot-day', attrs: { role: 'group' } });
    const h = el('h3', { text: name });
    group.append(h);
    const row = el('div', { cls: 'slot-row' });
    for (const s of list) {
      const b = el('button', {
        text: time(s.starts_at), cls: 'btn small slot',
        attrs: { type: 'button', 'data-testid': 'slot', 'data-slot': String(s.id), 'aria-pressed': 'false',
          title: label('visit-type', s.visit_type) },
      });
      if (s.visit_type !== 'video') b.append(el('span', { text: ` · ${label('visit-type', s.visit_type)}`, cls: 'slot-type' }));
      b.addEventListener('click', () => {
        for (const o of container.querySelectorAll('.slot')) o.setAttribute('aria-pressed', String(o === b));
        onPick(s);
      });
      row.append(b);
    }
    group.append(row);
    container.append(group);
  }
}

/**
 * A dialog (openDialog @options) that needs one of @slots picked before it
 * can be confirmed. Resolves with {slot, values} or null.
 */
export async function pickSlot(slots, options) {
  let slot = null;
  const picker = el('div', { cls: 'slot-days' });
  const values = await openDialog({
    ...options,
    content: [picker],
    onOpen: (dialog) => {
      dialog.dataset.invalid = '1';
      renderSlots(picker, slots, (s) => {
        slot = s;
        delete dialog.dataset.invalid;
      });
    },
  });
  return values && slot ? { slot, values } : null;
}
