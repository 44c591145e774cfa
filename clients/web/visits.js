// visits.js — the "Visits" tab: the caller's appointments (GET /appointments;
// a patient's own, a doctor's and the joint consultations they take part
// in), with join, cancel, reschedule, no-show, the summary of completed
// visits and the files shared in them.

import { t } from './i18n.js';
import * as api from './api.js';
import { $, showApiError, notify, busy } from './account-ui.js';
import { dateTime, time, isoDate, addDays, el, button, label } from './format.js';
import { summaryView, fileItem } from './views.js';
import { openDialog } from './dialog.js';
import { freeSlots, pickSlot } from './slots.js';

const REFRESH_MS = 30000;
const LIVE = new Set(['booked', 'waiting', 'in_consultation']);
// The server's default room_open_minutes: before it the button reads
// "check your devices" (the visit page works early, the room does not).
const ROOM_OPENS_MINUTES = 15;
const ROOM_LATE_MINUTES = 60;

const state = {
  ctx: null,
  items: null,
  timer: 0,
};

export function init() {
  $('visits-filter').addEventListener('change', () => load());
  $('visits-refresh').addEventListener('click', () => load());
}

export async function open(ctx) {
  state.ctx = ctx;
  await load();
  clearInterval(state.timer);
  state.timer = setInterval(() => load().catch(() => {}), REFRESH_MS);
}

export function close() {
  clearInterval(state.timer);
  state.timer = 0;
}

export function render() {
  if (state.items) renderList();
}

async function load() {
  const filter = $('visits-filter').value;
  const today = isoDate();
  const query = filter === 'upcoming' ? { from: addDays(today, -1) } : { from: addDays(today, -365), to: filter === 'past' ? today : undefined };
  try {
    const r = await api.get('/appointments', query);
    let items = r.items;
    if (filter === 'upcoming') items = items.filter((a) => LIVE.has(a.status));
    if (filter === 'past') items = items.filter((a) => !LIVE.has(a.status));
    if (filter !== 'upcoming') items.reverse(); // newest first
    state.items = items;
  } catch (e) {
    showApiError(e, 'visits');
    return;
  }
  renderList();
}

function isPatient() {
  return state.ctx.user.role === 'patient';
}

function renderList() {
  const list = $('visit-list');
  list.replaceChildren(...state.items.map(visitItem));
  $('visits-empty').hidden = state.items.length > 0;
}

function visitItem(a) {
  const me = state.ctx.user;
  const li = el('li', { cls: 'item', attrs: { 'data-testid': 'visit', 'data-appointment': String(a.id), 'data-status': a.status } });
  const head = el('div', { cls: 'item-head' });
  head.append(el('h3', { text: `${dateTime(a.starts_at)}–${time(a.ends_at)}` }),
    el('span', { text: label('status', a.status), cls: 'badge status-badge', attrs: { 'data-status': a.status } }));
  li.append(head);

  const d = a.doctor ?? {};
  const doctorText = [d.name, d.specialty, d.department?.name, d.institution?.name].filter(Boolean).join(' · ');
  if (isPatient()) {
    li.append(el('p', { text: t('visits.with', { who: doctorText }) }));
  } else {
    li.append(el('p', { text: t('visits.patient', { name: a.patient?.name ?? '' }) }));
    if (d.id !== me.id) li.append(el('p', { text: t('visits.doctor', { who: doctorText }), cls: 'help' }));
  }
  li.append(el('p', { text: label('visit-type', a.visit_type), cls: 'help' }));
  if (a.reason) li.append(el('p', { text: t('visits.reason', { reason: a.reason }) }));
  if (a.status === 'cancelled' && a.cancel_reason) li.append(el('p', { text: t('visits.cancel-reason', { reason: a.cancel_reason }), cls: 'help' }));
  if (a.summary) li.append(summaryView(a.summary));

  const actions = el('div', { cls: 'actions' });
  const now = Date.now();
  const start = Date.parse(a.starts_at);
  const end = Date.parse(a.ends_at);
  if (LIVE.has(a.status) && (a.status !== 'booked' || now < end + ROOM_LATE_MINUTES * 60000)) {
    const open = now >= start - ROOM_OPENS_MINUTES * 60000 || a.status !== 'booked';
    const key = !isPatient() ? 'visits.open' : a.status === 'in_consultation' ? 'visits.rejoin' : open ? 'visits.join' : 'visits.prepare';
    const link = el('a', { text: t(key), cls: `btn small${open ? ' primary' : ''}`,
      attrs: { href: `visit.html?appointment=${a.id}`, 'data-testid': 'visit-join' } });
    actions.append(link);
  }
  if (a.status === 'booked' || a.status === 'waiting') {
    actions.append(button('visits.reschedule', { testid: 'visit-reschedule', onClick: (ev) => reschedule(a, ev.currentTarget) }));
    actions.append(button('visits.cancel', { testid: 'visit-cancel', onClick: (ev) => cancel(a, ev.currentTarget) }));
    if (!isPatient() && now >= start) {
      actions.append(button('visits.no-show', { testid: 'visit-no-show', onClick: (ev) => noShow(a, ev.currentTarget) }));
    }
  }
  if (actions.childElementCount) li.append(actions);
  if (a.status !== 'cancelled') li.append(filesView(a));
  return li;
}

/** "Shared files": listed when opened, each downloadable. */
function filesView(a) {
  const details = el('details', { cls: 'files' });
  details.append(el('summary', { text: t('files.heading') }));
  const list = el('ul', { cls: 'plain-list' });
  details.append(list);
  details.addEventListener('toggle', async () => {
    if (!details.open) return;
    try {
      const r = await api.get(`/appointments/${a.id}/files`);
      list.replaceChildren(...(r.items.length ? r.items.map((f) => fileItem(`/appointments/${a.id}/files/${f.id}`, f))
        : [el('li', { text: t('files.none'), cls: 'help' })]));
    } catch (e) {
      showApiError(e, 'files');
    }
  });
  return details;
}

async function cancel(a, btn) {
  const v = await openDialog({
    titleKey: 'cancel.title', textKey: 'cancel.text', submitKey: 'cancel.confirm', danger: true,
    fields: [{ name: 'reason', key: 'cancel.reason', type: 'textarea', maxlength: 500 }],
  });
  if (!v) return;
  await busy(btn, async () => {
    try {
      await api.post(`/appointments/${a.id}/cancel`, v.reason ? { reason: v.reason } : {});
      notify('cancel.done', { when: dateTime(a.starts_at) });
    } catch (e) {
      showApiError(e, 'visits');
    }
    await load();
  });
}

async function reschedule(a, btn) {
  const from = isoDate();
  let slots;
  try {
    slots = await freeSlots(a.doctor.id, from, 14);
  } catch (e) {
    showApiError(e, 'visits');
    return;
  }
  const pick = await pickSlot(slots, {
    titleKey: 'reschedule.title', titleParams: { when: dateTime(a.starts_at) }, textKey: 'reschedule.text',
    submitKey: 'reschedule.confirm',
  });
  if (!pick) return;
  await busy(btn, async () => {
    try {
      const n = await api.post(`/appointments/${a.id}/reschedule`, { slot_id: pick.slot.id });
      notify('reschedule.done', { when: dateTime(n.starts_at) });
    } catch (e) {
      showApiError(e, 'book');
    }
    await load();
  });
}

async function noShow(a, btn) {
  await busy(btn, async () => {
    try {
      await api.post(`/appointments/${a.id}/no-show`);
      notify('no-show.done', { name: a.patient?.name ?? '' });
    } catch (e) {
      showApiError(e, 'visits');
    }
    await load();
  });
}
